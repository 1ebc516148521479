import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, agentToken, onBehalfOfRoot } from '../helpers/user-flow.ts';

/**
 * Token lineage and cascade revocation (the rest of SR-14; issue 11 item 3, first half), over real HTTP on both
 * stores: every exchanged token records its parents, and revoking any token at /revoke revokes all its descendants,
 * which introspection reports at once. Every test makes its own user, application and agents.
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

type Agent = { clientId: string; clientSecret: string };
type Body = Record<string, string>;

forEachStore('SR-14 token lineage', (fixture) => {
  let server: TestServer;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture);
    await registerAgentAndResource(server);
  });
  after(() => server.close());

  const agent = (): Promise<Agent> => registerAgentAndResource(server, { name: `agent ${++n}`, scopes: ['calc', 'files:read'] });
  /** Introspection as an admin: sees every token, whatever its audience. */
  const active = async (token: string): Promise<boolean> =>
    ((await (await server.postForm('/introspect', { token }, { authorization: `Bearer ${server.adminToken}` })).json()) as { active: boolean }).active;
  const exchange = async (by: Agent, params: Record<string, string>): Promise<string> => {
    const response = await server.postForm('/token', { grant_type: TE, subject_token_type: AT, actor_token: await actorToken(server, by), actor_token_type: AT, ...params }, { authorization: basicAuth(by.clientId, by.clientSecret) });
    const body = (await response.json()) as Body;
    assert.equal(response.status, 200, JSON.stringify(body));
    return body['access_token']!;
  };
  const revoke = (token: string, client: Record<string, string>, headers: Record<string, string> = {}) => server.postForm('/revoke', { token, ...client }, headers);

  /** A user's on-behalf-of token for agent `a`, through a public application: the root of a chain. */
  const root = (a: Agent) => onBehalfOfRoot(server, a, MCP_RESOURCE, `user${++n}@example.com`);

  test('SR-14 revoking the root of a three-hop chain makes all three inactive at once (user → A → B → C)', async () => {
    const [a, b, c] = [await agent(), await agent(), await agent()];
    const { token: t0, appId } = await root(a);
    const t1 = await exchange(a, { subject_token: t0, audience: b.clientId }); // A hands off to B
    const t2 = await exchange(b, { subject_token: t1, resource: MCP_RESOURCE, scope: 'calc' }); // B for the resource
    const t3 = await exchange(b, { subject_token: t2, audience: c.clientId }); // B hands off to C
    assert.deepEqual(
      [t0, t1, t2, t3].map((t) => decodeJwt(t).payload['gid']),
      Array(4).fill(decodeJwt(t0).payload['gid']),
    );
    for (const t of [t0, t1, t2, t3]) assert.equal(await active(t), true);

    assert.equal((await revoke(t0, { client_id: appId })).status, 200);
    for (const [i, t] of [t0, t1, t2, t3].entries()) assert.equal(await active(t), false, `hop ${i}`);
    // The grant itself was not revoked: the application's other tokens of it live on (only the tree below t0 went).
    const events = (await (await server.admin('GET', '/audit?event=token.revoked&limit=50')).json()) as { events: { detail: Record<string, unknown> }[] };
    assert.ok(events.events.some((e) => e.detail['jti'] === decodeJwt(t0).payload['jti'] && e.detail['descendants_revoked'] === 3));
    // A derived token cannot be exchanged any more either.
    const again = await server.postForm('/token', { grant_type: TE, subject_token: t3, subject_token_type: AT, actor_token: await actorToken(server, c), actor_token_type: AT, resource: MCP_RESOURCE }, { authorization: basicAuth(c.clientId, c.clientSecret) });
    assert.equal(again.status, 400);
  });

  test('SR-14 revoking a middle token revokes what derives from it, not its parent nor its siblings', async () => {
    const [a, b] = [await agent(), await agent()];
    const { token: t0 } = await root(a);
    const t1 = await exchange(a, { subject_token: t0, audience: b.clientId });
    const sibling = await exchange(a, { subject_token: t0, scope: 'calc' });
    const t2 = await exchange(b, { subject_token: t1, resource: MCP_RESOURCE });
    assert.equal((await revoke(t1, {}, { authorization: basicAuth(a.clientId, a.clientSecret) })).status, 200);
    assert.deepEqual([await active(t0), await active(sibling), await active(t1), await active(t2)], [true, true, false, false]);
  });

  test('SR-14 a chain without a user grant (an agent’s own token at the root) is revoked through the lineage alone', async () => {
    const [a, b] = [await agent(), await agent()];
    const own = await agentToken(server, a, { resource: MCP_RESOURCE, scope: 'calc' });
    const handOff = await exchange(a, { subject_token: own, audience: b.clientId });
    const derived = await exchange(b, { subject_token: handOff, resource: MCP_RESOURCE });
    assert.equal(decodeJwt(derived).payload['gid'], undefined, 'no grant ties it to its root');
    assert.equal(await active(derived), true);
    assert.equal((await revoke(own, {}, { authorization: basicAuth(a.clientId, a.clientSecret) })).status, 200);
    assert.equal(await active(handOff), false);
    assert.equal(await active(derived), false);
  });

  test('SR-14 revoking the actor token an exchange used revokes what it made', async () => {
    const a = await agent();
    const { token: t0 } = await root(a);
    const proof = await actorToken(server, a);
    const response = await server.postForm('/token', { grant_type: TE, subject_token: t0, subject_token_type: AT, actor_token: proof, actor_token_type: AT, scope: 'calc' }, { authorization: basicAuth(a.clientId, a.clientSecret) });
    const derived = ((await response.json()) as Body)['access_token']!;
    assert.equal(await active(derived), true);
    assert.equal((await revoke(proof, {}, { authorization: basicAuth(a.clientId, a.clientSecret) })).status, 200);
    assert.equal(await active(derived), false);
    assert.equal(await active(t0), true, 'the subject token is no descendant of the actor token');
  });
});

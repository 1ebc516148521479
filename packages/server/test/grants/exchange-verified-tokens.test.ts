import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, createApp, createUser, obtainCode, redeemCode } from '../helpers/user-flow.ts';

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

type Agent = { clientId: string; clientSecret: string };
type Body = Record<string, string>;

/**
 * Token exchange remembers the signatures of subject and actor tokens it verified (grants/token-exchange.ts,
 * tokens/own-token.ts): only the signature. A remembered token is refused again as soon as it is revoked, and as
 * soon as the key that signed it may no longer verify (a retired key past its publication window).
 */
forEachStore('token exchange: remembered signatures', (fixture) => {
  let server: TestServer;
  let planner: Agent;
  let app: { clientId: string };

  before(async () => {
    server = await startTestServer(fixture);
    planner = await registerAgentAndResource(server, { name: 'Planner', scopes: ['calc', 'files:read'] });
    await createUser(server, 'grace@example.com');
    app = await createApp(server, { public: true });
  });
  after(() => server.close());

  /** A user's on-behalf-of token: sub = user, act = planner, aud = MCP. */
  async function userToken(): Promise<string> {
    const options = { clientId: app.clientId, scope: 'calc files:read', resource: MCP_RESOURCE, requestedActor: planner.clientId, email: 'grace@example.com' };
    const { code, verifier } = await obtainCode(server, options);
    const response = await redeemCode(server, options, code, verifier, { actor_token: await actorToken(server, planner) });
    assert.equal(response.status, 200);
    return ((await response.json()) as Body)['access_token']!;
  }

  const exchange = (subject: string, actor: string) =>
    server.postForm(
      '/token',
      { grant_type: TE, subject_token: subject, subject_token_type: AT, actor_token: actor, actor_token_type: AT, resource: MCP_RESOURCE, scope: 'calc' },
      { authorization: basicAuth(planner.clientId, planner.clientSecret) },
    );
  const refusal = async (response: Response) => {
    assert.equal(response.status, 400);
    return String(((await response.json()) as Body)['error_description']);
  };

  test('TE-03 a subject token exchanged before is refused once revoked; so is a remembered actor token', async () => {
    const subject = await userToken();
    const actor = await actorToken(server, planner);
    assert.equal((await exchange(subject, actor)).status, 200);
    assert.equal((await exchange(subject, actor)).status, 200, 'the same tokens again');

    const { jti, exp } = decodeJwt(subject).payload as { jti: string; exp: number };
    await server.store.revokeTokenId(jti, exp, server.clock.now());
    assert.match(await refusal(await exchange(subject, actor)), /subject_token is not valid \(inactive\)/);

    const fresh = await userToken();
    assert.equal((await exchange(fresh, actor)).status, 200);
    const a = decodeJwt(actor).payload as { jti: string; exp: number };
    await server.store.revokeTokenId(a.jti, a.exp, server.clock.now());
    assert.match(await refusal(await exchange(fresh, actor)), /actor_token is not valid/);
  });

  test('TE-03 a remembered signature ends with its key: a subject token of a retired key past its publication window is refused', async () => {
    const subject = await userToken();
    assert.equal((await exchange(subject, await actorToken(server, planner))).status, 200, 'its signature is now remembered');
    const oldKid = server.context.keys.active.kid;
    const rotation = await server.context.keys.rotate('ES256', 60);
    assert.equal(rotation.retiredKid, oldKid);
    server.clock.advance(61);
    try {
      const { exp } = decodeJwt(subject).payload as { exp: number };
      assert.ok(exp > server.clock.now(), 'the subject token itself has not expired');
      const actor = await actorToken(server, planner);
      assert.notEqual(decodeJwt(actor).header['kid'], oldKid, 'the actor token is signed by the new key');
      assert.match(await refusal(await exchange(subject, actor)), /subject_token is not valid \(invalid\)/);
    } finally {
      server.clock.advance(-61);
    }
  });
});

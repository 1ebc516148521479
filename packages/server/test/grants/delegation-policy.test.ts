import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createVerifier, verifyDelegation } from '@mandate/sdk/verify';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, agentToken, createApp, createUser, obtainCode, redeemCode } from '../helpers/user-flow.ts';

/**
 * Issue 11 item 1, delegation-chain policy, over real HTTP on both stores: per resource (max depth, a person at the
 * root, allowed actors) and per agent (to whom it may pass a token on), enforced when a token exchange mints and
 * answered by the dry-run admin endpoint; the SDK's verifyDelegation applies the same rules to the minted token.
 * Every test registers its own resource and agents, so a policy set by one touches no other.
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

type Agent = { clientId: string; clientSecret: string };
type Body = Record<string, string>;

forEachStore('delegation-chain policy', (fixture) => {
  let server: TestServer;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture);
  });
  after(() => server.close());

  /** A resource of its own with an API key, and agents allowed `calc` on it. */
  async function setting(agents = 3) {
    const uri = `https://r${++n}.example.com/mcp`;
    const created = await server.admin('POST', '/resources', { resource: uri, scopes: ['calc', 'files:read'] });
    assert.equal(created.status, 201);
    const resource = (await created.json()) as { id: string; api_key: string };
    const list: Agent[] = [];
    for (let i = 0; i < agents; i++) list.push(await registerAgentAndResource(server, { name: `agent ${n}.${i}`, scopes: ['calc'], audiences: [uri] }, uri));
    return { uri, id: resource.id, apiKey: resource.api_key, agents: list };
  }

  /** A person's on-behalf-of token for agent `a` at `uri`: the root of a human chain. */
  async function userToken(a: Agent, uri: string): Promise<string> {
    const email = `user${++n}@example.com`;
    await createUser(server, email);
    const app = await createApp(server, { public: true });
    const options = { clientId: app.clientId, scope: 'calc', resource: uri, requestedActor: a.clientId, email };
    const { code, verifier } = await obtainCode(server, options);
    return ((await (await redeemCode(server, options, code, verifier, { actor_token: await actorToken(server, a) })).json()) as Body)['access_token']!;
  }

  const exchange = async (by: Agent, params: Record<string, string>) => {
    const response = await server.postForm('/token', { grant_type: TE, subject_token_type: AT, actor_token: await actorToken(server, by), actor_token_type: AT, ...params }, { authorization: basicAuth(by.clientId, by.clientSecret) });
    return { status: response.status, body: (await response.json()) as Body };
  };
  const dryRun = async (body: Record<string, unknown>) => {
    const response = await server.admin('POST', '/delegation/check', body);
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as { allowed: boolean; error?: string; error_description?: string; token?: Record<string, unknown> };
  };
  const setPolicy = async (path: string, policy: unknown) => {
    const response = await server.admin('PUT', `${path}/delegation-policy`, policy);
    assert.equal(response.status, 200, await response.clone().text());
  };

  test('a resource’s max_depth refuses a deeper chain at mint, the dry run says the same, and the SDK refuses the token too', async () => {
    const { uri, id, agents: [a, b] } = await setting(2);
    const handed = (await exchange(a!, { subject_token: await userToken(a!, uri), audience: b!.clientId })).body['access_token']!;
    const allowed = await exchange(b!, { subject_token: handed, resource: uri });
    assert.equal(allowed.status, 200, 'no policy yet: two actors are fine');
    const twoActors = allowed.body['access_token']!;

    await setPolicy(`/resources/${id}`, { max_depth: 1 });
    const refused = await exchange(b!, { subject_token: handed, resource: uri });
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error'], 'invalid_request');
    assert.equal(refused.body['error_description'], `resource ${uri} refuses this delegation chain: the delegation chain has 2 actors; at most 1 are allowed`);
    const verdict = await dryRun({ actor: b!.clientId, subject_token: handed, resource: uri });
    assert.deepEqual(verdict, { allowed: false, error: 'invalid_request', error_description: refused.body['error_description'] });

    // The resource side: the SDK applies the same rule to the token minted before the policy.
    const verifier = createVerifier({ issuer: server.issuer, audience: uri, clock: () => server.clock.nowMs(), delegation: { maxDepth: 1 } });
    await assert.rejects(verifier.verify(twoActors), { code: 'ERR_DELEGATION_TOO_DEEP', depth: 2, maxDepth: 1 });
    const auth = await createVerifier({ issuer: server.issuer, audience: uri, clock: () => server.clock.nowMs() }).verify(twoActors);
    assert.throws(() => verifyDelegation(auth, { allowedDelegations: { [a!.clientId]: [] } }), { code: 'ERR_DELEGATION_NOT_ALLOWED', from: a!.clientId, to: b!.clientId });

    assert.equal((await server.admin('DELETE', `/resources/${id}/delegation-policy`)).status, 204);
    assert.equal((await dryRun({ actor: b!.clientId, subject_token: handed, resource: uri })).allowed, true);
  });

  test('require_human_root: a chain rooted in an agent’s own token is refused; one rooted in a person passes', async () => {
    const { uri, id, agents: [a, b] } = await setting(2);
    await setPolicy(`/resources/${id}`, { require_human_root: true });
    const own = await agentToken(server, a!, { resource: uri, scope: 'calc' });
    const fromAgent = (await exchange(a!, { subject_token: own, audience: b!.clientId })).body['access_token']!;
    const refused = await exchange(b!, { subject_token: fromAgent, resource: uri });
    assert.equal(refused.body['error'], 'invalid_request');
    assert.match(refused.body['error_description']!, /is not a person/);

    const fromPerson = (await exchange(a!, { subject_token: await userToken(a!, uri), audience: b!.clientId })).body['access_token']!;
    const passed = await exchange(b!, { subject_token: fromPerson, resource: uri });
    assert.equal(passed.status, 200, JSON.stringify(passed.body));
    await assert.rejects(
      createVerifier({ issuer: server.issuer, audience: uri, clock: () => server.clock.nowMs(), delegation: { requireHumanRoot: true } }).verify(own),
      { code: 'ERR_DELEGATION_NO_HUMAN_ROOT' },
    );
  });

  test('allowed_actors: an actor the resource does not list is refused, wherever in the chain', async () => {
    const { uri, id, agents: [a, b] } = await setting(2);
    await setPolicy(`/resources/${id}`, { allowed_actors: [a!.clientId] });
    const root = await userToken(a!, uri);
    assert.equal((await exchange(a!, { subject_token: root, resource: uri, scope: 'calc' })).status, 200, 'A alone is fine');
    const handed = (await exchange(a!, { subject_token: root, audience: b!.clientId })).body['access_token']!;
    const refused = await exchange(b!, { subject_token: handed, resource: uri });
    assert.equal(refused.body['error_description'], `resource ${uri} refuses this delegation chain: actor ${b!.clientId} is not allowed`);
    const verifier = createVerifier({ issuer: server.issuer, audience: uri, clock: () => server.clock.nowMs(), delegation: { allowedActors: [b!.clientId] } });
    await assert.rejects(verifier.verify(root), { code: 'ERR_DELEGATION_ACTOR_NOT_ALLOWED', actor: a!.clientId });
  });

  test('an agent’s may_delegate_to: the hand-off to another agent is refused at once, to a listed one allowed', async () => {
    const { uri, agents: [a, b, c] } = await setting(3);
    await setPolicy(`/agents/${a!.clientId}`, { may_delegate_to: [c!.clientId] });
    const root = await userToken(a!, uri);
    const refused = await exchange(a!, { subject_token: root, audience: b!.clientId });
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error_description'], `${a!.clientId} may not delegate to ${b!.clientId}`);
    assert.equal((await dryRun({ actor: a!.clientId, subject_token: root, audience: b!.clientId })).allowed, false);
    const toC = await exchange(a!, { subject_token: root, audience: c!.clientId });
    assert.equal(toC.status, 200);
    assert.equal((await exchange(c!, { subject_token: toC.body['access_token']!, resource: uri })).status, 200);
  });

  test('every hop only shrinks: scope and audience never widen, the lifetime never exceeds the parent’s (policy or not)', async () => {
    const { uri, agents: [a, b] } = await setting(2);
    const other = await setting(0);
    const root = await userToken(a!, uri);
    const handed = (await exchange(a!, { subject_token: root, audience: b!.clientId, scope: 'calc' })).body['access_token']!;
    assert.equal((await exchange(b!, { subject_token: handed, resource: uri, scope: 'calc files:read' })).body['error'], 'invalid_scope');
    assert.equal((await exchange(b!, { subject_token: handed, resource: other.uri })).body['error'], 'invalid_target');
    const child = (await exchange(b!, { subject_token: handed, resource: uri })).body['access_token']!;
    assert.ok((decodeJwt(child).payload['exp'] as number) <= (decodeJwt(handed).payload['exp'] as number));
    assert.ok((decodeJwt(handed).payload['exp'] as number) <= (decodeJwt(root).payload['exp'] as number));
  });

  test('the dry run: what the exchange would issue, minting nothing; a bad subject or actor is a refusal, not an error', async () => {
    const { uri, agents: [a, b] } = await setting(2);
    const root = await userToken(a!, uri);
    const verdict = await dryRun({ actor: a!.clientId, subject_token: root, audience: b!.clientId });
    assert.equal(verdict.allowed, true);
    assert.deepEqual(verdict.token?.['aud'], [b!.clientId]);
    assert.deepEqual(verdict.token?.['may_act'], { sub: b!.clientId });
    assert.equal((verdict.token?.['act'] as Body)['sub'], a!.clientId);
    assert.equal(verdict.token?.['scope'], 'calc');
    const tampered = await dryRun({ actor: a!.clientId, subject_token: `${root.slice(0, -4)}AAAA`, resource: uri });
    assert.equal(tampered.allowed, false);
    assert.equal(tampered.error, 'invalid_request');
    assert.equal((await server.admin('POST', '/delegation/check', { actor: 'agt_nobody', subject_token: root })).status, 400);
    assert.equal((await server.admin('POST', '/delegation/check', { subject_token: root })).status, 400);
  });

  test('policies through the admin API: read back, unknown clients refused, unknown owners 404, every change audited', async () => {
    const { uri, id, agents: [a] } = await setting(1);
    assert.deepEqual(await (await server.admin('GET', `/resources/${id}/delegation-policy`)).json(), { resource: uri, policy: {} });
    await setPolicy(`/resources/${id}`, { max_depth: 2, require_human_root: true, allowed_actors: [a!.clientId] });
    assert.deepEqual(await (await server.admin('GET', `/resources/${id}/delegation-policy`)).json(), {
      resource: uri,
      policy: { max_depth: 2, require_human_root: true, allowed_actors: [a!.clientId] },
    });
    const unknownActor = await server.admin('PUT', `/resources/${id}/delegation-policy`, { allowed_actors: ['agt_typo'] });
    assert.equal(unknownActor.status, 400);
    assert.equal((await server.admin('PUT', `/resources/${id}/delegation-policy`, { max_depth: -1 })).status, 400);
    assert.equal((await server.admin('PUT', `/resources/${id}/delegation-policy`, { may_delegate_to: [] })).status, 400, 'an agent’s field');
    assert.equal((await server.admin('PUT', '/resources/res_none/delegation-policy', {})).status, 404);
    assert.equal((await server.admin('PUT', `/agents/${a!.clientId}/delegation-policy`, { may_delegate_to: ['agt_typo'] })).status, 400);
    assert.equal((await server.admin('GET', '/agents/agt_none/delegation-policy')).status, 404);
    const audit = (await (await server.admin('GET', '/audit?event=resource.delegation_policy_set')).json()) as { events: { subject: string }[] };
    assert.ok(audit.events.some((e) => e.subject === uri));
  });
});

import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { runCli } from '../../../../test/helpers/processes.ts';
import { createDpopProof, dpopKeyFrom } from '@mandate/protocol';
import { basicAuth, decodeJwt, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, createApp, createUser, isActive, obtainCode, redeemCode } from '../helpers/user-flow.ts';

/**
 * Issue 11 item 2, exchange for resource servers and gateways, over real HTTP on both stores: a registered resource
 * server authenticates with its API key and exchanges (RFC 8693) a token whose audience is itself for a token to a
 * downstream resource it may call on (its `downstream_resources`), with itself appended to the chain. Each refusal
 * has its precise error. Every test registers its own resources, agent and user.
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const SCOPES = ['calc', 'files:read', 'exec'];
const kek = randomBytes(32).toString('base64url');

type Body = Record<string, string>;

forEachStore('downstream exchange by a resource server', (fixture) => {
  let server: TestServer;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture, { keys: { kek } });
  });
  after(() => server.close());

  async function resource(uri: string, body: Record<string, unknown> = {}): Promise<{ id: string; apiKey: string }> {
    const created = await server.admin('POST', '/resources', { resource: uri, scopes: SCOPES, ...body });
    assert.equal(created.status, 201, await created.clone().text());
    const json = (await created.json()) as { id: string; api_key: string };
    return { id: json.id, apiKey: json.api_key };
  }

  /**
   * A gateway G that may call on D, a resource X nobody lists, an agent allowed all three, and a person's
   * on-behalf-of token for the agent at G (`calc files:read`), from a grant the person gave for `consented`.
   */
  async function setting(options: { consented?: (uris: { gateway: string; downstream: string; stranger: string }) => string[] } = {}) {
    const i = ++n;
    const uris = { gateway: `https://gw${i}.example.com/mcp`, downstream: `https://down${i}.example.com/mcp`, stranger: `https://x${i}.example.com/mcp` };
    const downstream = await resource(uris.downstream);
    const stranger = await resource(uris.stranger);
    const gateway = await resource(uris.gateway, { downstream_resources: [uris.downstream, uris.stranger] });
    const agentCreated = await server.admin('POST', '/agents', { name: `agent ${i}`, scopes: ['calc', 'files:read'], audiences: Object.values(uris) });
    const agent = (await agentCreated.json()) as { client_id: string; client_secret: string };
    const a = { clientId: agent.client_id, clientSecret: agent.client_secret };
    const email = `person${i}@example.com`;
    await createUser(server, email);
    const app = await createApp(server, { public: true });
    const consented = options.consented?.(uris) ?? [uris.gateway, uris.downstream];
    const flow = { clientId: app.clientId, scope: 'calc files:read', resource: consented, requestedActor: a.clientId, email };
    const { code, verifier } = await obtainCode(server, flow);
    const redeemed = await redeemCode(server, flow, code, verifier, { actor_token: await actorToken(server, a), resource: uris.gateway });
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    const userToken = ((await redeemed.json()) as Body)['access_token']!;
    return { uris, gateway, downstream, stranger, agent: a, userToken, app };
  }

  const exchange = async (apiKey: string, params: Record<string, string>) => {
    const response = await server.postForm('/token', { grant_type: TE, subject_token_type: AT, ...params }, { authorization: `Bearer ${apiKey}` });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
  };

  test('TE-06: the gateway gets a token for its downstream with itself appended to the chain; TE-05 response; lineage revokes it with its parent', async () => {
    const s = await setting();
    const subject = decodeJwt(s.userToken).payload;
    assert.deepEqual(subject['aud'], s.uris.gateway, 'the person’s token names only the gateway');

    const result = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream, scope: 'files:read' });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body['issued_token_type'], AT);
    assert.equal(result.body['token_type'], 'Bearer');
    assert.equal(result.body['scope'], 'files:read');
    assert.equal(result.body['refresh_token'], undefined, 'TE-09: no refresh token');
    const claims = decodeJwt(result.body['access_token']!).payload;
    assert.equal(claims['aud'], s.uris.downstream);
    assert.equal(claims['sub'], subject['sub'], 'still the person');
    assert.equal(claims['gid'], subject['gid'], 'still the person’s grant');
    assert.deepEqual(claims['act'], {
      sub: s.uris.gateway,
      client_id: s.uris.gateway,
      sub_profile: 'resource_server',
      act: { sub: s.agent.clientId, client_id: s.agent.clientId, sub_profile: 'ai_agent' },
    });
    assert.ok((claims['exp'] as number) <= (subject['exp'] as number), 'never outlives its parent');

    // The downstream sees it active, with the chain; the gateway does not (it is not its audience).
    const introspected = (await (await server.postForm('/introspect', { token: result.body['access_token']! }, { authorization: `Bearer ${s.downstream.apiKey}` })).json()) as Record<string, unknown>;
    assert.equal(introspected['active'], true);
    assert.deepEqual((introspected['act'] as Record<string, unknown>)['sub'], s.uris.gateway);
    assert.equal(await isActive(server, s.gateway.apiKey, result.body['access_token']!), false);

    // Without a scope: the subject's scopes the downstream defines.
    const all = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream });
    assert.equal(all.body['scope'], 'calc files:read');

    // Lineage: revoking the person's token revokes what the gateway obtained from it.
    const revoked = await server.postForm('/revoke', { token: s.userToken, client_id: s.app.clientId });
    assert.equal(revoked.status, 200);
    assert.equal(await isActive(server, s.downstream.apiKey, result.body['access_token']!), false);
    const after = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream });
    assert.deepEqual([after.status, after.body['error'], after.body['error_description']], [400, 'invalid_request', 'subject_token is not valid (inactive)']);
  });

  test('TE-04: a resource the gateway may not call on is refused (invalid_target), even one the person consented to', async () => {
    const s = await setting();
    // D lists no downstream: it may exchange for nothing.
    const fromDownstream = await exchange(s.downstream.apiKey, { subject_token: s.userToken, resource: s.uris.gateway });
    assert.equal(fromDownstream.status, 400);
    assert.equal(fromDownstream.body['error'], 'invalid_request', 'and the token is not even for it');
    const gatewayToItself = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.gateway });
    assert.deepEqual([gatewayToItself.status, gatewayToItself.body['error'], gatewayToItself.body['error_description']], [
      400,
      'invalid_target',
      `resource ${s.uris.gateway} is not an allowed downstream of resource server ${s.uris.gateway}`,
    ]);
    const unregistered = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: 'https://nowhere.example.com/mcp' });
    assert.deepEqual([unregistered.body['error'], unregistered.body['error_description']], ['invalid_target', 'resource https://nowhere.example.com/mcp is not registered']);
  });

  test('TE-09: a scope beyond the subject token’s is refused (invalid_scope)', async () => {
    const s = await setting();
    const wider = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream, scope: 'files:read exec' });
    assert.deepEqual([wider.status, wider.body['error'], wider.body['error_description']], [400, 'invalid_scope', "scope exec exceeds the subject token's scope"]);
  });

  test('audience: a token not issued for this resource server cannot be exchanged by it', async () => {
    const s = await setting();
    // The stranger lists the downstream too, but the person's token was never meant for it.
    assert.equal((await server.admin('PATCH', `/resources/${s.stranger.id}`, { downstream_resources: [s.uris.downstream] })).status, 200);
    const refused = await exchange(s.stranger.apiKey, { subject_token: s.userToken, resource: s.uris.downstream });
    assert.deepEqual([refused.status, refused.body['error'], refused.body['error_description']], [400, 'invalid_request', `the subject token's audience is not this resource server (${s.uris.stranger})`]);
  });

  test('SR-03: a downstream the gateway may call on but the person never consented to is refused', async () => {
    const s = await setting({ consented: (uris) => [uris.gateway, uris.downstream] });
    const refused = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.stranger });
    assert.deepEqual([refused.status, refused.body['error'], refused.body['error_description']], [400, 'invalid_target', `resource ${s.uris.stranger} is outside what the user consented to`]);
  });

  test('delegation-chain policy: the downstream’s max_depth refuses the chain the gateway would make', async () => {
    const s = await setting();
    assert.equal((await server.admin('PUT', `/resources/${s.downstream.id}/delegation-policy`, { max_depth: 1 })).status, 200);
    const refused = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream });
    assert.deepEqual([refused.status, refused.body['error'], refused.body['error_description']], [
      400,
      'invalid_request',
      `resource ${s.uris.downstream} refuses this delegation chain: the delegation chain has 2 actors; at most 1 are allowed`,
    ]);
    assert.equal((await server.admin('PUT', `/resources/${s.downstream.id}/delegation-policy`, { max_depth: 2, require_human_root: true })).status, 200);
    assert.equal((await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream })).status, 200);
    // allowed_actors names resource servers by their URI, next to agents.
    assert.equal((await server.admin('PUT', `/resources/${s.downstream.id}/delegation-policy`, { allowed_actors: [s.agent.clientId] })).status, 200);
    const stranger = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream });
    assert.equal(stranger.body['error_description'], `resource ${s.uris.downstream} refuses this delegation chain: actor ${s.uris.gateway} is not allowed`);
    assert.equal((await server.admin('PUT', `/resources/${s.downstream.id}/delegation-policy`, { allowed_actors: [s.agent.clientId, s.uris.gateway] })).status, 200);
    assert.equal((await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream })).status, 200);
  });

  test('a wrong API key is refused with 401 invalid_client; a resource server never sends actor_token', async () => {
    const s = await setting();
    const key = s.gateway.apiKey;
    const wrong = await exchange(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, { subject_token: s.userToken, resource: s.uris.downstream });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body['error'], 'invalid_client');
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Bearer /);
    const withActor = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream, actor_token: await actorToken(server, s.agent), actor_token_type: AT });
    assert.deepEqual([withActor.status, withActor.body['error']], [400, 'invalid_request']);
  });

  test('the allowance: downstream_resources must name other registered resources (problem+json), and deleting the gateway ends its tokens', async () => {
    const s = await setting();
    const unknown = await server.admin('PATCH', `/resources/${s.gateway.id}`, { downstream_resources: ['https://nowhere.example.com/mcp'] });
    assert.equal(unknown.status, 400);
    assert.match(unknown.headers.get('content-type') ?? '', /application\/problem\+json/);
    assert.match(((await unknown.json()) as { detail: string }).detail, /is not a registered resource/);
    const itself = await server.admin('PATCH', `/resources/${s.gateway.id}`, { downstream_resources: [s.uris.gateway] });
    assert.equal(itself.status, 400);
    const shown = (await (await server.admin('GET', `/resources/${s.gateway.id}`)).json()) as { downstream_resources: string[] };
    assert.deepEqual(shown.downstream_resources, [s.uris.downstream, s.uris.stranger], 'a refused change writes nothing');

    const token = (await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream })).body['access_token']!;
    assert.equal(await isActive(server, s.downstream.apiKey, token), true);
    assert.equal((await server.admin('DELETE', `/resources/${s.gateway.id}`)).status, 204);
    assert.equal(await isActive(server, s.downstream.apiKey, token), false, 'a resource server in the chain that no longer exists ends the token');
  });

  test('the CLI shows, sets and clears the allowance (mandate resource downstream)', async () => {
    const s = await setting();
    const env = { ...process.env, MANDATE_KEK: kek, MANDATE_DATABASE_URL: fixture.url, MANDATE_LOG_LEVEL: 'silent' };
    const shown = JSON.parse(await runCli(['resource', 'downstream', s.uris.gateway, '--json'], env)) as { downstream_resources: string[] };
    assert.deepEqual(shown.downstream_resources, [s.uris.downstream, s.uris.stranger]);
    const set = JSON.parse(await runCli(['resource', 'downstream', s.gateway.id, '--to', s.uris.downstream, '--json'], env)) as { downstream_resources: string[] };
    assert.deepEqual(set.downstream_resources, [s.uris.downstream]);
    const refused = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.stranger });
    assert.equal(refused.body['error_description'], `resource ${s.uris.stranger} is not an allowed downstream of resource server ${s.uris.gateway}`);
    await assert.rejects(runCli(['resource', 'downstream', s.uris.gateway, '--to', 'https://nowhere.example.com/mcp'], env), /is not a registered resource/);
    const cleared = JSON.parse(await runCli(['resource', 'downstream', s.uris.gateway, '--clear', '--json'], env)) as { downstream_resources: string[] };
    assert.deepEqual(cleared.downstream_resources, []);
    const none = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream });
    assert.equal(none.body['error'], 'invalid_target');
  });

  test('DPoP: a bound subject token needs the resource server’s own proof, and the downstream token is bound to its key', async () => {
    const s = await setting();
    const proof = (key: ReturnType<typeof dpopKeyFrom>) => createDpopProof(key, { method: 'POST', url: `${server.issuer}/token` }, server.clock.now());
    const agentKey = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
    const gatewayKey = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
    const issued = await server.postForm('/token', { grant_type: 'client_credentials', resource: s.uris.gateway, scope: 'files:read' }, { authorization: basicAuth(s.agent.clientId, s.agent.clientSecret), dpop: proof(agentKey) });
    const bound = ((await issued.json()) as Body)['access_token']!;
    assert.ok((decodeJwt(bound).payload['cnf'] as { jkt: string }).jkt);

    const unproven = await exchange(s.gateway.apiKey, { subject_token: bound, resource: s.uris.downstream });
    assert.deepEqual([unproven.status, unproven.body['error'], unproven.body['error_description']], [
      400,
      'invalid_request',
      'the subject_token is DPoP-bound: the exchange needs a DPoP proof, and its result stays bound',
    ]);
    const response = await server.postForm('/token', { grant_type: TE, subject_token_type: AT, subject_token: bound, resource: s.uris.downstream }, { authorization: `Bearer ${s.gateway.apiKey}`, dpop: proof(gatewayKey) });
    const body = (await response.json()) as Body;
    assert.equal(response.status, 200, JSON.stringify(body));
    assert.equal(body['token_type'], 'DPoP');
    const claims = decodeJwt(body['access_token']!).payload;
    assert.deepEqual(claims['cnf'], { jkt: gatewayKey.jkt });
    assert.deepEqual(claims['act'], { sub: s.uris.gateway, client_id: s.uris.gateway, sub_profile: 'resource_server' }, 'an agent’s own token: the gateway is the only actor');
  });

  test('scope policies (issue 12) apply to the downstream token: a max_chain_depth the gateway’s hop exceeds, a lifetime cap', async () => {
    const s = await setting();
    const policy = (body: unknown) => server.admin('PUT', `/resources/${s.downstream.id}/policies/files:read`, body);
    assert.equal((await policy({ policy: 'user_consent', conditions: { max_chain_depth: 1 } })).status, 200);
    const refused = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream, scope: 'files:read' });
    assert.equal(refused.status, 400);
    assert.equal(refused.body['error'], 'invalid_scope');
    assert.match(refused.body['error_description']!, /^scope files:read is refused by /);
    assert.equal((await policy({ policy: 'user_consent', conditions: { max_token_lifetime_seconds: 120 } })).status, 200);
    const capped = await exchange(s.gateway.apiKey, { subject_token: s.userToken, resource: s.uris.downstream, scope: 'files:read' });
    assert.equal(capped.status, 200, JSON.stringify(capped.body));
    assert.equal(Number(capped.body['expires_in']), 120);
  });
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, createApp, createUser, isActive, obtainCode, redeemCode } from '../helpers/user-flow.ts';

forEachStore('authorization_code grant and on-behalf-of', (fixture) => {
  let server: TestServer;
  let apiKey: string;
  let app: { clientId: string };
  let confidential: { clientId: string; clientSecret?: string };
  let agent: { clientId: string; clientSecret: string };
  let otherAgent: { clientId: string; clientSecret: string };
  let userId: string;

  before(async () => {
    // Codes live 10 minutes here so a test can let an actor token expire while its code is still good.
    server = await startTestServer(fixture, { authorization: { codeTtlSeconds: 600 } });
    const registered = await registerAgentAndResource(server, { name: 'Research Assistant', access_token_ttl_seconds: 60 });
    apiKey = registered.apiKey;
    agent = registered;
    otherAgent = await registerAgentAndResource(server, { name: 'Other Agent' });
    userId = await createUser(server, 'ada@example.com');
    app = await createApp(server, { public: true });
    confidential = await createApp(server, { name: 'Server App' });
  });
  after(() => server.close());

  const flow = () => ({ clientId: app.clientId, scope: 'openid email profile calc', resource: MCP_RESOURCE, nonce: 'n-0S6_WzA2Mj' });

  test('AT-08 code + PKCE → RFC 9068 access token for the user and an ID token (typ JWT, nonce, auth_time, email)', async () => {
    const { code, verifier } = await obtainCode(server, flow());
    const response = await redeemCode(server, flow(), code, verifier);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as Record<string, string>;
    assert.equal(body['token_type'], 'Bearer');
    assert.equal(body['refresh_token'], undefined, 'no offline_access, no refresh token');
    const at = decodeJwt(body['access_token']!);
    assert.equal(at.header['typ'], 'at+jwt');
    for (const claim of ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id']) assert.ok(claim in at.payload, claim);
    assert.equal(at.payload['sub'], userId);
    assert.equal(at.payload['client_id'], app.clientId);
    // Granted openid: userinfo is an audience beside the resource (issue 9 item 7).
    assert.deepEqual(at.payload['aud'], [MCP_RESOURCE, `${server.issuer}/userinfo`]);
    assert.equal(at.payload['act'], undefined);
    assert.equal(at.payload['sub_profile'], undefined, 'a user is not an agent');
    assert.equal(typeof at.payload['auth_time'], 'number');
    const id = decodeJwt(body['id_token']!);
    assert.equal(id.header['typ'], 'JWT');
    assert.equal(id.payload['aud'], app.clientId);
    assert.equal(id.payload['sub'], userId);
    assert.equal(id.payload['nonce'], 'n-0S6_WzA2Mj');
    assert.equal(id.payload['email'], 'ada@example.com');
    assert.equal(id.payload['email_verified'], true);
    assert.equal(id.payload['name'], 'Ada Lovelace');
    assert.equal(id.payload['auth_time'], at.payload['auth_time']);
    assert.equal(await isActive(server, apiKey, body['access_token']!), true);
  });

  test('BCP-03 a code redeemed twice → invalid_grant, and the tokens from the first redemption are revoked', async () => {
    const { code, verifier } = await obtainCode(server, flow());
    const first = (await (await redeemCode(server, flow(), code, verifier)).json()) as { access_token: string };
    assert.equal(await isActive(server, apiKey, first.access_token), true);
    const replay = await redeemCode(server, flow(), code, verifier);
    assert.equal(replay.status, 400);
    assert.equal(((await replay.json()) as { error: string }).error, 'invalid_grant');
    assert.equal(await isActive(server, apiKey, first.access_token), false);
    const revoked = (await (await server.admin('GET', '/audit?event=grant.revoked')).json()) as { events: { detail: { reason: string } }[] };
    assert.ok(revoked.events.some((e) => e.detail.reason === 'authorization code replayed'));
  });

  test('BCP-02 a wrong code_verifier → invalid_grant (PKCE mismatch); a missing one → invalid_request', async () => {
    const { code } = await obtainCode(server, flow());
    const missing = await server.postForm('/token', { grant_type: 'authorization_code', code, client_id: app.clientId });
    assert.equal(((await missing.json()) as { error: string }).error, 'invalid_request');
    const wrong = await redeemCode(server, flow(), code, 'a'.repeat(43));
    assert.equal(wrong.status, 400);
    const body = (await wrong.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_grant');
    assert.match(body.error_description, /code_verifier/);
  });

  test('BCP-01 redirect_uri at the token endpoint differing from the authorization request → invalid_grant', async () => {
    const { code, verifier } = await obtainCode(server, flow());
    const response = await redeemCode(server, { ...flow(), redirectUri: 'https://app.example.com/other' }, code, verifier);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_grant');
  });

  test('a code redeemed by another client → invalid_grant; an expired code → invalid_grant', async () => {
    const { code, verifier } = await obtainCode(server, flow());
    const stolen = await redeemCode(server, { ...flow(), clientId: confidential.clientId, clientSecret: confidential.clientSecret }, code, verifier);
    assert.equal(((await stolen.json()) as { error: string }).error, 'invalid_grant');
    const late = await obtainCode(server, flow());
    server.clock.advance(601);
    const expired = await redeemCode(server, flow(), late.code, late.verifier);
    assert.equal(((await expired.json()) as { error: string }).error, 'invalid_grant');
  });

  test('a confidential client must authenticate to redeem its code', async () => {
    const options = { ...flow(), clientId: confidential.clientId };
    const { code, verifier } = await obtainCode(server, options);
    const anonymous = await redeemCode(server, options, code, verifier);
    assert.equal(anonymous.status, 401);
    const again = await obtainCode(server, options);
    const ok = await redeemCode(server, { ...options, clientSecret: confidential.clientSecret }, again.code, again.verifier);
    assert.equal(ok.status, 200);
  });

  const obo = () => ({ ...flow(), scope: 'openid calc', requestedActor: agent.clientId });

  test('OBO-03 requested_actor + actor_token → sub = user, act = {sub, client_id, sub_profile} of the agent', async () => {
    const { code, verifier } = await obtainCode(server, obo());
    const actor = await actorToken(server, agent);
    const response = await redeemCode(server, obo(), code, verifier, { actor_token: actor, actor_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { access_token: string };
    const { payload } = decodeJwt(body.access_token);
    assert.equal(payload['sub'], userId);
    assert.equal(payload['client_id'], app.clientId);
    assert.deepEqual(payload['act'], { sub: agent.clientId, client_id: agent.clientId, sub_profile: 'ai_agent' });
    const introspection = (await (await server.postForm('/introspect', { token: body.access_token }, { authorization: `Bearer ${apiKey}` })).json()) as Record<string, unknown>;
    assert.equal(introspection['active'], true);
    assert.deepEqual(introspection['act'], payload['act']);

  });

  test('disabling the agent makes the user’s OBO token inactive too, and re-enabling does not revive it', async () => {
    // An agent of its own: a disabled agent's tokens of that second stay dead, which other tests must not meet.
    const actor = await registerAgentAndResource(server, { name: 'Disabled later' });
    const options = { ...flow(), scope: 'openid calc', requestedActor: actor.clientId };
    const { code, verifier } = await obtainCode(server, options);
    const response = await redeemCode(server, options, code, verifier, { actor_token: await actorToken(server, actor) });
    const body = (await response.json()) as { access_token: string };
    assert.equal(await isActive(server, apiKey, body.access_token), true);
    await server.admin('POST', `/agents/${actor.clientId}/disable`);
    assert.equal(await isActive(server, apiKey, body.access_token), false);
    await server.admin('POST', `/agents/${actor.clientId}/enable`);
    assert.equal(await isActive(server, apiKey, body.access_token), false, 'stays dead after re-enabling');
  });

  test('OBO-02 no actor_token for an agent grant → invalid_grant', async () => {
    const { code, verifier } = await obtainCode(server, obo());
    const response = await redeemCode(server, obo(), code, verifier);
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_grant');
  });

  test('OBO-02 an actor_token of another agent → invalid_grant', async () => {
    const { code, verifier } = await obtainCode(server, obo());
    const response = await redeemCode(server, obo(), code, verifier, { actor_token: await actorToken(server, otherAgent) });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_grant');
    assert.match(body.error_description, /does not belong to the agent/);
  });

  test('OBO-02 an expired actor token → invalid_grant', async () => {
    const { code, verifier } = await obtainCode(server, obo());
    const actor = await actorToken(server, agent);
    server.clock.advance(61);
    const response = await redeemCode(server, obo(), code, verifier, { actor_token: actor });
    const body = (await response.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_grant');
    assert.match(body.error_description, /expired/);
  });

  test('OBO-02 an actor token that is itself a user token (not the agent acting for itself) → invalid_grant', async () => {
    const { code, verifier } = await obtainCode(server, obo());
    const first = await obtainCode(server, obo());
    const userToken = (await (await redeemCode(server, obo(), first.code, first.verifier, { actor_token: await actorToken(server, agent) })).json()) as { access_token: string };
    const response = await redeemCode(server, obo(), code, verifier, { actor_token: userToken.access_token });
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_grant');
  });

  test('an actor_token for a grant that named no agent → invalid_grant', async () => {
    const { code, verifier } = await obtainCode(server, flow());
    const response = await redeemCode(server, flow(), code, verifier, { actor_token: await actorToken(server, agent) });
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_grant');
  });

  test('disabling the user makes their tokens inactive at once', async () => {
    const other = await createUser(server, 'grace@example.com');
    const { code, verifier } = await obtainCode(server, { ...flow(), email: 'grace@example.com' });
    const body = (await (await redeemCode(server, flow(), code, verifier)).json()) as { access_token: string };
    assert.equal(await isActive(server, apiKey, body.access_token), true);
    assert.equal((await server.admin('POST', `/users/${other}/disable`)).status, 200);
    assert.equal(await isActive(server, apiKey, body.access_token), false);
    await server.admin('POST', `/users/${other}/enable`);
    assert.equal(await isActive(server, apiKey, body.access_token), false, 'stays dead after re-enabling');
  });

  test('token requests are audited with the grant id and the actor, never the code', async () => {
    const { code, verifier } = await obtainCode(server, obo());
    const redeemed = await redeemCode(server, obo(), code, verifier, { actor_token: await actorToken(server, agent) });
    assert.equal(redeemed.status, 200);
    const events = (await (await server.admin('GET', '/audit?event=token.*&limit=200')).json()) as { events: Record<string, unknown>[] };
    const issued = events.events.filter((e) => (e['detail'] as Record<string, unknown>)['grant_type'] === 'authorization_code');
    assert.ok(issued.length > 0);
    assert.ok(issued.some((e) => e['actor'] === agent.clientId));
    for (const event of events.events) assert.doesNotMatch(JSON.stringify(event), /"code":"[^[]/);
  });
});

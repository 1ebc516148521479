import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createDpopProof, type DpopKey, dpopKeyFrom } from '@mandate/protocol';
import { basicAuth, decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, createApp, createUser, obtainCode, redeemCode } from '../helpers/user-flow.ts';

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
type Body = Record<string, string>;
type Agent = { clientId: string; clientSecret: string; apiKey: string };

const newKey = (): DpopKey => dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');

/** A proof for `server`'s endpoint at its own frozen time. */
const proofFor = (server: TestServer, key: DpopKey, path = '/token', extra: { method?: string; nonce?: string; accessToken?: string } = {}) =>
  createDpopProof(key, { method: extra.method ?? 'POST', url: `${server.issuer}${path}`, ...(extra.nonce ? { nonce: extra.nonce } : {}), ...(extra.accessToken ? { accessToken: extra.accessToken } : {}) }, server.clock.now());

forEachStore('DPoP at the authorization server (RFC 9449)', (fixture) => {
  let server: TestServer;
  let agent: Agent;
  let app: { clientId: string };
  const agentKey = newKey();

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server, { scopes: ['calc', 'files:read'] });
    await createUser(server, 'ada@example.com');
    app = await createApp(server, { public: true });
  });
  after(() => server.close());

  /** A client_credentials request; `port` sends it to another instance serving the same issuer (as behind a load balancer). */
  const clientCredentials = (headers: Record<string, string> = {}, port = server.port) =>
    fetch(`http://localhost:${port}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(agent.clientId, agent.clientSecret), ...headers },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: MCP_RESOURCE }),
    });

  test('DP-16 client_credentials with a proof → token_type DPoP, cnf.jkt of the proof key; introspection reports both (IN-03)', async () => {
    const response = await clientCredentials({ dpop: proofFor(server, agentKey) });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Body;
    assert.equal(body['token_type'], 'DPoP');
    assert.deepEqual(decodeJwt(body['access_token']!).payload['cnf'], { jkt: agentKey.jkt });
    const introspection = (await (await server.postForm('/introspect', { token: body['access_token']! }, { authorization: `Bearer ${agent.apiKey}` })).json()) as Record<string, unknown>;
    assert.equal(introspection['active'], true);
    assert.equal(introspection['token_type'], 'DPoP');
    assert.deepEqual(introspection['cnf'], { jkt: agentKey.jkt });
    await server.context.audit.flush();
    const { events } = (await (await server.admin('GET', '/audit?event=token.issued&limit=200')).json()) as { events: { detail: Record<string, unknown> }[] };
    const issued = events.find((e) => e.detail['jti'] === decodeJwt(body['access_token']!).payload['jti']);
    assert.equal(issued?.detail['dpop_jkt'], agentKey.jkt, 'the audit row names the key the token is bound to');
  });

  test('client_credentials without a proof is unchanged: Bearer, no cnf', async () => {
    const body = (await (await clientCredentials()).json()) as Body;
    assert.equal(body['token_type'], 'Bearer');
    assert.equal(decodeJwt(body['access_token']!).payload['cnf'], undefined);
  });

  test('metadata advertises dpop_signing_alg_values_supported', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, string[]>;
    assert.ok(metadata['dpop_signing_alg_values_supported']!.includes('ES256'));
    assert.ok(!metadata['dpop_signing_alg_values_supported']!.some((alg) => alg === 'none' || alg.startsWith('HS')));
  });

  test('DP-13 a proof for another URL or another method → 400 invalid_dpop_proof', async () => {
    for (const dpop of [proofFor(server, agentKey, '/introspect'), proofFor(server, agentKey, '/token', { method: 'GET' }), 'not-a-jwt']) {
      const response = await clientCredentials({ dpop });
      assert.equal(response.status, 400);
      assert.equal(((await response.json()) as Body)['error'], 'invalid_dpop_proof');
    }
  });

  test('DP-15 a replayed proof → 400 invalid_dpop_proof, also at a second instance on the same database', async () => {
    const proof = proofFor(server, agentKey);
    assert.equal((await clientCredentials({ dpop: proof })).status, 200);
    const again = await clientCredentials({ dpop: proof });
    assert.equal(again.status, 400);
    assert.deepEqual(await again.json(), { error: 'invalid_dpop_proof', error_description: 'the DPoP proof was used before' });

    const second = await startTestServer(fixture, { issuer: server.issuer });
    try {
      second.clock.advance(server.clock.now() - second.clock.now());
      const fresh = proofFor(server, agentKey);
      assert.notEqual(second.port, server.port);
      assert.equal((await clientCredentials({ dpop: fresh }, second.port)).status, 200, 'the second instance accepts a fresh proof');
      const replayed = await clientCredentials({ dpop: fresh }, server.port);
      assert.equal(replayed.status, 400, 'the first instance refuses what the second one accepted');
      assert.equal(((await replayed.json()) as Body)['error'], 'invalid_dpop_proof');
    } finally {
      await second.close();
    }
  });

  test('DP-19 an agent registered with dpop_bound_access_tokens gets no token without a proof; the flag is in the admin view', async () => {
    const bound = await registerAgentAndResource(server, { name: 'bound agent', dpop_bound_access_tokens: true });
    const request = (headers: Record<string, string> = {}) =>
      server.postForm('/token', { grant_type: 'client_credentials', resource: MCP_RESOURCE }, { authorization: basicAuth(bound.clientId, bound.clientSecret), ...headers });
    const without = await request();
    assert.equal(without.status, 400);
    assert.equal(((await without.json()) as Body)['error'], 'invalid_dpop_proof');
    const withProof = await request({ dpop: proofFor(server, newKey()) });
    assert.equal(((await withProof.json()) as Body)['token_type'], 'DPoP');
    const view = (await (await server.admin('GET', `/agents/${bound.clientId}`)).json()) as Record<string, unknown>;
    assert.equal(view['dpop_bound_access_tokens'], true);
    assert.equal((await server.admin('PATCH', `/agents/${bound.clientId}`, { dpop_bound_access_tokens: false })).status, 200);
    assert.equal((await request()).status, 200, 'once the flag is off, Bearer tokens again');
  });

  test('DP-18 dpop_jkt on the authorization request: a proof of another key → invalid_grant; of that key → a DPoP token', async () => {
    const key = newKey();
    const flow = { clientId: app.clientId, scope: 'openid calc', resource: MCP_RESOURCE, extraParams: { dpop_jkt: key.jkt } };
    const first = await obtainCode(server, flow);
    const wrong = await server.postForm('/token', { grant_type: 'authorization_code', code: first.code, code_verifier: first.verifier, redirect_uri: 'https://app.example.com/callback', client_id: app.clientId }, { dpop: proofFor(server, newKey()) });
    assert.equal(wrong.status, 400);
    assert.equal(((await wrong.json()) as Body)['error'], 'invalid_grant');
    const { code, verifier } = await obtainCode(server, flow);
    const missing = await redeemCode(server, flow, code, verifier);
    assert.equal(((await missing.json()) as Body)['error'], 'invalid_grant', 'without any proof');
    const again = await obtainCode(server, flow);
    const right = await server.postForm('/token', { grant_type: 'authorization_code', code: again.code, code_verifier: again.verifier, redirect_uri: 'https://app.example.com/callback', client_id: app.clientId }, { dpop: proofFor(server, key) });
    assert.equal(right.status, 200);
    const body = (await right.json()) as Body;
    assert.equal(body['token_type'], 'DPoP');
    assert.deepEqual(decodeJwt(body['access_token']!).payload['cnf'], { jkt: key.jkt });
  });

  test('DP-17 a public client’s refresh token stays bound to its key: another key or none → invalid_grant', async () => {
    const key = newKey();
    const flow = { clientId: app.clientId, scope: 'openid offline_access calc', resource: MCP_RESOURCE };
    const { code, verifier } = await obtainCode(server, flow);
    const redeemed = await server.postForm('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://app.example.com/callback', client_id: app.clientId }, { dpop: proofFor(server, key) });
    const tokens = (await redeemed.json()) as Body;
    assert.equal(tokens['token_type'], 'DPoP');
    const refresh = (dpop?: string, token = tokens['refresh_token']!) =>
      server.postForm('/token', { grant_type: 'refresh_token', refresh_token: token, client_id: app.clientId }, dpop ? { dpop } : {});
    const other = await refresh(proofFor(server, newKey()));
    assert.equal(other.status, 400);
    assert.equal(((await other.json()) as Body)['error'], 'invalid_grant');
    assert.equal(((await (await refresh()).json()) as Body)['error'], 'invalid_grant', 'without a proof');
    const same = await refresh(proofFor(server, key));
    assert.equal(same.status, 200, 'the refused attempts did not spend the token');
    const next = (await same.json()) as Body;
    assert.equal(next['token_type'], 'DPoP');
    assert.deepEqual(decodeJwt(next['access_token']!).payload['cnf'], { jkt: key.jkt });
    const rotatedOther = await refresh(proofFor(server, newKey()), next['refresh_token']);
    assert.equal(((await rotatedOther.json()) as Body)['error'], 'invalid_grant', 'the rotated refresh token is still bound');
  });

  test('token exchange: a bound subject token needs a proof; the child is bound to the actor’s own key', async () => {
    const userKey = newKey();
    const flow = { clientId: app.clientId, scope: 'openid calc', resource: MCP_RESOURCE, requestedActor: agent.clientId };
    const { code, verifier } = await obtainCode(server, flow);
    const redeemed = await server.postForm(
      '/token',
      { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://app.example.com/callback', client_id: app.clientId, actor_token: await actorToken(server, agent) },
      { dpop: proofFor(server, userKey) },
    );
    const userToken = ((await redeemed.json()) as Body)['access_token']!;
    assert.deepEqual(decodeJwt(userToken).payload['cnf'], { jkt: userKey.jkt });
    const exchange = async (actorToken: string, dpop?: string) =>
      server.postForm('/token', { grant_type: TE, subject_token: userToken, subject_token_type: AT, actor_token: actorToken, actor_token_type: AT, scope: 'calc' }, { authorization: basicAuth(agent.clientId, agent.clientSecret), ...(dpop ? { dpop } : {}) });

    const unbound = await exchange(await actorToken(server, agent));
    assert.equal(unbound.status, 400);
    assert.match(((await unbound.json()) as Body)['error_description']!, /subject_token is DPoP-bound/);

    const actorKey = newKey();
    // The agent's actor token (resource = this issuer, SR-04), bound to its own key.
    const boundActor = (
      (await (await server.postForm('/token', { grant_type: 'client_credentials', resource: server.issuer }, { authorization: basicAuth(agent.clientId, agent.clientSecret), dpop: proofFor(server, actorKey) })).json()) as Body
    )['access_token']!;
    assert.deepEqual(decodeJwt(boundActor).payload['cnf'], { jkt: actorKey.jkt });
    const foreignProof = await exchange(boundActor, proofFor(server, newKey()));
    assert.equal(foreignProof.status, 400, 'a bound actor token needs a proof of its own key');
    const child = await exchange(boundActor, proofFor(server, actorKey));
    assert.equal(child.status, 200);
    const body = (await child.json()) as Body;
    assert.equal(body['token_type'], 'DPoP');
    assert.deepEqual(decodeJwt(body['access_token']!).payload['cnf'], { jkt: actorKey.jkt });
  });

  test('DP-20 userinfo: a DPoP-bound token sent as Bearer → 401 DPoP challenge; with the DPoP scheme and a proof → 200', async () => {
    const key = newKey();
    const flow = { clientId: app.clientId, scope: 'openid', resource: [] };
    const { code, verifier } = await obtainCode(server, flow);
    const redeemed = await server.postForm('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://app.example.com/callback', client_id: app.clientId }, { dpop: proofFor(server, key) });
    const token = ((await redeemed.json()) as Body)['access_token']!;
    const userinfo = (headers: Record<string, string>) => fetch(`${server.issuer}/userinfo`, { headers });

    const asBearer = await userinfo({ authorization: `Bearer ${token}` });
    assert.equal(asBearer.status, 401);
    assert.match(asBearer.headers.get('www-authenticate')!, /^DPoP error="invalid_token", .*algs="[^"]*ES256/);
    const noProof = await userinfo({ authorization: `DPoP ${token}` });
    assert.equal(noProof.status, 401);
    assert.match(noProof.headers.get('www-authenticate')!, /^DPoP error="invalid_dpop_proof"/);
    const withoutAth = await userinfo({ authorization: `DPoP ${token}`, dpop: proofFor(server, key, '/userinfo', { method: 'GET' }) });
    assert.match(withoutAth.headers.get('www-authenticate')!, /^DPoP error="invalid_dpop_proof"/);
    const proof = proofFor(server, key, '/userinfo', { method: 'GET', accessToken: token });
    const ok = await userinfo({ authorization: `DPoP ${token}`, dpop: proof });
    assert.equal(ok.status, 200);
    assert.equal(typeof ((await ok.json()) as Body)['sub'], 'string');
    const replay = await userinfo({ authorization: `DPoP ${token}`, dpop: proof });
    assert.equal(replay.status, 401, 'DP-15 a proof is accepted once at userinfo too');
    const anonymous = await userinfo({});
    assert.match(anonymous.headers.get('www-authenticate')!, /^Bearer realm="mandate", DPoP algs="/);
  });
});

forEachStore('DPoP nonces at the authorization server (RFC 9449 §8)', (fixture) => {
  let server: TestServer;
  let agent: Agent;

  before(async () => {
    server = await startTestServer(fixture, { dpop: { nonceRequired: true } });
    agent = await registerAgentAndResource(server);
  });
  after(() => server.close());

  const clientCredentials = (dpop: string, headers: Record<string, string> = {}) =>
    server.postForm('/token', { grant_type: 'client_credentials', resource: MCP_RESOURCE }, { authorization: basicAuth(agent.clientId, agent.clientSecret), dpop, ...headers });
  /** A browser client on another origin can read the nonce (RFC 9449 §8: CORS exposes DPoP-Nonce). */
  const assertNonceReadableCrossOrigin = (response: Response) => {
    assert.equal(response.headers.get('access-control-allow-origin'), '*');
    assert.ok((response.headers.get('access-control-expose-headers') ?? '').split(/,\s*/).includes('DPoP-Nonce'), response.headers.get('access-control-expose-headers') ?? 'none');
  };

  test('DP-14 a proof without a nonce → 400 use_dpop_nonce with exactly one DPoP-Nonce; the retry with it succeeds', async () => {
    const key = newKey();
    const first = await clientCredentials(proofFor(server, key), { origin: 'https://spa.example' });
    assert.equal(first.status, 400);
    assert.equal(((await first.json()) as Body)['error'], 'use_dpop_nonce');
    assertNonceReadableCrossOrigin(first);
    const nonce = first.headers.get('dpop-nonce');
    assert.match(nonce ?? '', /^[A-Za-z0-9_-]+$/, 'exactly one NQCHAR nonce (a second header would be joined with a comma)');
    const retry = await clientCredentials(proofFor(server, key, '/token', { nonce: nonce! }));
    assert.equal(retry.status, 200);
    assert.equal(((await retry.json()) as Body)['token_type'], 'DPoP');
    assert.equal(retry.headers.get('dpop-nonce'), nonce, 'the current nonce comes with the 200');
  });

  test('DP-14 userinfo: a DPoP proof without the nonce → 401 DPoP use_dpop_nonce with the nonce; with it → 200', async () => {
    const key = newKey();
    const app = await createApp(server, { public: true });
    await createUser(server, 'nonce@example.com');
    const flow = { clientId: app.clientId, scope: 'openid', resource: [], email: 'nonce@example.com' };
    const { code, verifier } = await obtainCode(server, flow);
    const redeem = (dpop: string) =>
      server.postForm('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'https://app.example.com/callback', client_id: app.clientId }, { dpop });
    const first = await redeem(proofFor(server, key));
    assert.equal(((await first.json()) as Body)['error'], 'use_dpop_nonce', 'the nonce is asked before the code is spent');
    const nonce = first.headers.get('dpop-nonce')!;
    const token = ((await (await redeem(proofFor(server, key, '/token', { nonce }))).json()) as Body)['access_token']!;
    const userinfo = (dpop: string) => fetch(`${server.issuer}/userinfo`, { headers: { authorization: `DPoP ${token}`, dpop, origin: 'https://spa.example' } });
    const without = await userinfo(proofFor(server, key, '/userinfo', { method: 'GET', accessToken: token }));
    assert.equal(without.status, 401);
    assertNonceReadableCrossOrigin(without);
    assert.match(without.headers.get('www-authenticate')!, /^DPoP error="use_dpop_nonce"/);
    assert.equal(without.headers.get('dpop-nonce'), nonce);
    const withNonce = await userinfo(proofFor(server, key, '/userinfo', { method: 'GET', accessToken: token, nonce }));
    assert.equal(withNonce.status, 200);
  });

  test('DP-10 a stale nonce → 400 use_dpop_nonce with a new one', async () => {
    const key = newKey();
    const nonce = (await clientCredentials(proofFor(server, key))).headers.get('dpop-nonce')!;
    server.clock.advance(700);
    const stale = await clientCredentials(proofFor(server, key, '/token', { nonce }));
    assert.equal(stale.status, 400);
    assert.equal(((await stale.json()) as Body)['error'], 'use_dpop_nonce');
    assert.notEqual(stale.headers.get('dpop-nonce'), nonce);
  });
});

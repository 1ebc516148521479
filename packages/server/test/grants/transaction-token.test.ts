import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { runCli } from '../../../../test/helpers/processes.ts';
import { basicAuth, decodeJwt, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { actorToken, agentToken, createApp, createUser, isActive, obtainCode, redeemCode } from '../helpers/user-flow.ts';

/**
 * Issue 11 item 5, Transaction Tokens (draft-ietf-oauth-transaction-tokens-10; specs.md §3, TT-*), over real HTTP
 * on both stores: a registered workload (an agent authenticated as a client, or a resource server with its API key)
 * exchanges an access token it holds for a Txn-Token, and a Txn-Token for a narrower replacement. Every test
 * registers its own workloads and user.
 */

const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const TXN = 'urn:ietf:params:oauth:token-type:txn_token';
const SCOPES = ['calc', 'files:read', 'exec'];
const TRUST_DOMAIN = 'trust-domain.example';
const kek = randomBytes(32).toString('base64url');

type Body = Record<string, unknown>;

forEachStore('Transaction Tokens', (fixture) => {
  let server: TestServer;
  let n = 0;

  before(async () => {
    server = await startTestServer(fixture, { keys: { kek }, transactionTokens: { trustDomain: TRUST_DOMAIN, ttlSeconds: 120 } });
  });
  after(() => server.close());

  async function resource(uri: string, body: Record<string, unknown> = {}): Promise<{ id: string; apiKey: string }> {
    const created = await server.admin('POST', '/resources', { resource: uri, scopes: SCOPES, ...body });
    assert.equal(created.status, 201, await created.clone().text());
    const json = (await created.json()) as { id: string; api_key: string };
    return { id: json.id, apiKey: json.api_key };
  }

  async function agent(body: Record<string, unknown>): Promise<{ clientId: string; clientSecret: string }> {
    const created = await server.admin('POST', '/agents', { name: `agent ${++n}`, scopes: ['calc', 'files:read'], ...body });
    assert.equal(created.status, 201, await created.clone().text());
    const json = (await created.json()) as { client_id: string; client_secret: string };
    return { clientId: json.client_id, clientSecret: json.client_secret };
  }

  /** A gateway (allowed Txn-Tokens), a backend workload, an agent, and a person's on-behalf-of token at the gateway. */
  async function setting() {
    const i = ++n;
    const uris = { gateway: `https://gw${i}.example.com/api`, backend: `https://backend${i}.example.com/api` };
    const gateway = await resource(uris.gateway, { txn_tokens: true });
    const backend = await resource(uris.backend, { txn_tokens: true });
    const a = await agent({ audiences: Object.values(uris), txn_tokens: true });
    const email = `txn-person${i}@example.com`;
    await createUser(server, email);
    const app = await createApp(server, { public: true });
    const flow = { clientId: app.clientId, scope: 'calc files:read', resource: [uris.gateway], requestedActor: a.clientId, email };
    const { code, verifier } = await obtainCode(server, flow);
    const redeemed = await redeemCode(server, flow, code, verifier, { actor_token: await actorToken(server, a), resource: uris.gateway });
    assert.equal(redeemed.status, 200, await redeemed.clone().text());
    const userToken = ((await redeemed.json()) as Record<string, string>)['access_token']!;
    return { uris, gateway, backend, agent: a, app, userToken };
  }

  const txnRequest = (params: Record<string, string>) => ({ grant_type: TE, requested_token_type: TXN, audience: TRUST_DOMAIN, subject_token_type: AT, ...params });

  async function byResource(apiKey: string, params: Record<string, string>) {
    const response = await server.postForm('/token', txnRequest(params), { authorization: `Bearer ${apiKey}` });
    return { status: response.status, body: (await response.json()) as Body };
  }

  async function byAgent(a: { clientId: string; clientSecret: string }, params: Record<string, string>) {
    const response = await server.postForm('/token', txnRequest(params), { authorization: basicAuth(a.clientId, a.clientSecret) });
    return { status: response.status, body: (await response.json()) as Body };
  }

  const refusal = (result: { status: number; body: Body }) => [result.status, result.body['error'], result.body['error_description']];

  test('TT-06, TT-08: a gateway gets a Txn-Token for the person’s token: typ, claims, N_A, no refresh token', async () => {
    const s = await setting();
    const subject = decodeJwt(s.userToken).payload;
    const details = { action: 'BUY', ticker: 'MSFT', quantity: '100' };
    const result = await byResource(s.gateway.apiKey, {
      subject_token: s.userToken,
      scope: 'files:read',
      request_details: JSON.stringify(details),
      request_context: JSON.stringify({ req_ip: '69.151.72.123', transport: 'https' }),
    });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body['issued_token_type'], TXN);
    assert.equal(result.body['token_type'], 'N_A');
    assert.equal(result.body['refresh_token'], undefined, 'TT-08: never a refresh token');
    assert.equal(result.body['scope'], 'files:read');
    const { header, payload } = decodeJwt(result.body['access_token'] as string);
    assert.equal(header['typ'], 'txntoken+jwt');
    assert.equal(typeof header['kid'], 'string');
    assert.equal(payload['aud'], TRUST_DOMAIN);
    assert.equal(payload['iss'], server.issuer);
    assert.equal(payload['sub'], subject['sub'], 'the person');
    assert.equal(payload['scope'], 'files:read');
    assert.equal(payload['req_wl'], s.uris.gateway);
    assert.match(payload['txn'] as string, /^[0-9a-f-]{36}$/);
    assert.deepEqual(payload['tctx'], details);
    assert.deepEqual(payload['rctx'], { req_ip: '69.151.72.123', transport: 'https', authn: 'pwd', req_wl_chain: [s.uris.gateway] });
    assert.equal(payload['iat'], server.clock.now());
    assert.equal(payload['exp'], server.clock.now() + 120, 'the configured lifetime');
    assert.equal(result.body['expires_in'], 120);
    // TT-07: the inbound access token is nowhere in it.
    assert.ok(!JSON.stringify(payload).includes(s.userToken.split('.')[2]!));
    for (const claim of ['client_id', 'act', 'gid', 'cnf']) assert.equal(payload[claim], undefined, `no ${claim}`);

    // A new transaction each time.
    const again = await byResource(s.gateway.apiKey, { subject_token: s.userToken, scope: 'files:read' });
    assert.notEqual(decodeJwt(again.body['access_token'] as string).payload['txn'], payload['txn']);
    assert.equal(decodeJwt(again.body['access_token'] as string).payload['rctx'] && (decodeJwt(again.body['access_token'] as string).payload['rctx'] as Body)['req_ip'], '127.0.0.1', 'without a stated req_ip, the requester’s address');

    // TT-12: audited without the token.
    const audit = (await (await server.admin('GET', `/audit?event=token.issued&limit=200`)).json()) as { events: { actor: string; detail: Body }[] };
    const row = audit.events.find((e) => e.detail['jti'] === payload['jti']);
    assert.ok(row, 'the issuance is audited');
    assert.deepEqual([row.actor, row.detail['issued_token_type'], row.detail['txn'], row.detail['replacement']], [s.uris.gateway, TXN, payload['txn'], false]);
    assert.ok(!JSON.stringify(audit.events).includes(result.body['access_token'] as string), 'never the token');
  });

  test('TT-06: an agent gets a Txn-Token for its own token, and its lifetime never passes the subject token’s', async () => {
    const uri = `https://solo${++n}.example.com/api`;
    await resource(uri);
    const a = await agent({ audiences: [uri], txn_tokens: true });
    const own = await agentToken(server, a, { scope: 'calc' });
    const result = await byAgent(a, { subject_token: own, scope: 'calc' });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    const payload = decodeJwt(result.body['access_token'] as string).payload;
    assert.deepEqual([payload['sub'], payload['req_wl'], payload['scope']], [a.clientId, a.clientId, 'calc']);
    assert.equal((payload['rctx'] as Body)['authn'], undefined, 'no user authentication behind an agent’s own token');

    // 60 s before the subject token expires, the Txn-Token lives 60 s, not the configured 120.
    const subjectExp = decodeJwt(own).payload['exp'] as number;
    server.clock.advance(subjectExp - 60 - server.clock.now());
    const late = await byAgent(a, { subject_token: own, scope: 'calc' });
    assert.equal(late.status, 200, JSON.stringify(late.body));
    assert.equal(decodeJwt(late.body['access_token'] as string).payload['exp'], subjectExp);
    assert.equal(late.body['expires_in'], 60);

    // TT-04: once the subject token has expired, nothing.
    server.clock.advance(61);
    assert.deepEqual(refusal(await byAgent(a, { subject_token: own, scope: 'calc' })), [400, 'invalid_request', 'subject_token is not valid (expired)']);
  });

  test('TT-05: a scope beyond the subject token’s is refused (invalid_scope)', async () => {
    const s = await setting();
    assert.deepEqual(refusal(await byResource(s.gateway.apiKey, { subject_token: s.userToken, scope: 'files:read exec' })), [400, 'invalid_scope', "scope exec exceeds the subject token's scope"]);
  });

  test('TT-01: workloads not allowed Txn-Tokens are refused (unauthorized_client); the admin API and the CLI switch it', async () => {
    const s = await setting();
    const plain = await agent({ audiences: [s.uris.gateway] });
    const own = await agentToken(server, plain, { scope: 'calc', resource: s.uris.gateway });
    assert.deepEqual(refusal(await byAgent(plain, { subject_token: own, scope: 'calc' })), [400, 'unauthorized_client', `agent ${plain.clientId} may not request Txn-Tokens (its txn_tokens setting is off)`]);

    const other = await resource(`https://other${++n}.example.com/api`);
    assert.deepEqual(refusal(await byResource(other.apiKey, { subject_token: s.userToken, scope: 'calc' })), [
      400,
      'unauthorized_client',
      `resource server https://other${n}.example.com/api may not request Txn-Tokens (its txn_tokens setting is off)`,
    ]);

    const app = await createApp(server, {});
    const appRefused = await server.postForm('/token', txnRequest({ subject_token: s.userToken, scope: 'calc' }), { authorization: basicAuth(app.clientId, app.clientSecret!) });
    assert.deepEqual(refusal({ status: appRefused.status, body: (await appRefused.json()) as Body }), [400, 'unauthorized_client', 'only agents and resource servers may request Txn-Tokens']);

    // The admin API turns it on; the CLI shows and turns it off again.
    const patched = await server.admin('PATCH', `/agents/${plain.clientId}`, { txn_tokens: true });
    assert.equal(((await patched.json()) as Body)['txn_tokens'], true);
    assert.equal((await byAgent(plain, { subject_token: own, scope: 'calc' })).status, 200);
    const env = { ...process.env, MANDATE_KEK: kek, MANDATE_DATABASE_URL: fixture.url, MANDATE_LOG_LEVEL: 'silent' };
    assert.equal((JSON.parse(await runCli(['agent', 'txn-tokens', plain.clientId, '--json'], env)) as Body)['txn_tokens'], true);
    assert.equal((JSON.parse(await runCli(['agent', 'txn-tokens', plain.clientId, '--deny', '--json'], env)) as Body)['txn_tokens'], false);
    assert.equal((await byAgent(plain, { subject_token: own, scope: 'calc' })).body['error'], 'unauthorized_client');
    assert.equal((JSON.parse(await runCli(['resource', 'txn-tokens', other.id, '--allow', '--json'], env)) as Body)['txn_tokens'], true);
    assert.equal((await (await server.admin('GET', `/resources/${other.id}`)).json() as Body)['txn_tokens'], true);
  });

  test('TT-02, TT-03: malformed requests are refused precisely, before anything is issued', async () => {
    const s = await setting();
    const send = (params: Record<string, string | undefined>) => {
      const form = Object.fromEntries(Object.entries(txnRequest({ subject_token: s.userToken, scope: 'calc', ...params } as Record<string, string>)).filter(([, v]) => v !== undefined)) as Record<string, string>;
      return server.postForm('/token', form, { authorization: `Bearer ${s.gateway.apiKey}` }).then(async (r) => refusal({ status: r.status, body: (await r.json()) as Body }));
    };
    assert.deepEqual(await send({ audience: undefined }), [400, 'invalid_request', `audience is required: the trust domain (${TRUST_DOMAIN})`]);
    assert.deepEqual(await send({ audience: 'elsewhere.example' }), [400, 'invalid_target', `audience must be exactly this trust domain (${TRUST_DOMAIN})`]);
    assert.deepEqual(await send({ scope: undefined }), [400, 'invalid_request', 'scope is required: the purpose of the transaction']);
    assert.deepEqual(await send({ subject_token: undefined }), [400, 'invalid_request', 'subject_token and subject_token_type are required']);
    assert.deepEqual(await send({ subject_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), [400, 'invalid_request', 'a refresh token cannot be the subject of a Txn-Token request']);
    assert.deepEqual(await send({ subject_token_type: 'urn:ietf:params:oauth:token-type:self_signed' }), [
      400,
      'invalid_request',
      'subject_token_type urn:ietf:params:oauth:token-type:self_signed is not supported for Txn-Tokens: send an access token of this server (access_token or jwt) or a Txn-Token to replace (txn_token)',
    ]);
    assert.deepEqual(await send({ request_details: '[1,2]' }), [400, 'invalid_request', 'request_details must be a JSON object']);
    assert.deepEqual(await send({ request_context: '{"a":' }), [400, 'invalid_request', 'request_context must be a JSON object']);
    assert.deepEqual(await send({ request_details: JSON.stringify({ blob: 'x'.repeat(5000) }) }), [400, 'invalid_request', 'request_details is larger than 4096 bytes']);
    assert.deepEqual(await send({ request_context: JSON.stringify({ req_wl_chain: ['forged'] }) }), [400, 'invalid_request', 'request_context must not set req_wl_chain: Mandate records the requesting workloads']);
    assert.deepEqual(await send({ resource: s.uris.backend }), [400, 'invalid_request', 'resource is not used in a Txn-Token request: its audience is the trust domain']);
    assert.deepEqual(await send({ actor_token: 'x', actor_token_type: AT }), [400, 'invalid_request', 'actor_token is not used in a Txn-Token request: the requesting workload authenticates as itself']);
    assert.deepEqual(await send({ subject_token: 'not-a-token' }), [400, 'invalid_request', 'subject_token is not valid (invalid)']);
    // A token the workload does not hold.
    const stranger = await resource(`https://stranger${++n}.example.com/api`, { txn_tokens: true });
    assert.deepEqual(refusal(await byResource(stranger.apiKey, { subject_token: s.userToken, scope: 'calc' })), [400, 'invalid_request', `the subject token's audience is not this resource server (https://stranger${n}.example.com/api)`]);
  });

  test('TT-09: a replacement narrows scope and tctx, keeps txn, sub, aud and rctx, records the call chain, and never outlives the original', async () => {
    const s = await setting();
    const original = await byResource(s.gateway.apiKey, { subject_token: s.userToken, scope: 'calc files:read', request_details: JSON.stringify({ action: 'BUY', ticker: 'MSFT' }) });
    assert.equal(original.status, 200, JSON.stringify(original.body));
    const first = decodeJwt(original.body['access_token'] as string).payload;
    server.clock.advance(30);
    const replaced = await byResource(s.backend.apiKey, { subject_token: original.body['access_token'] as string, subject_token_type: TXN, scope: 'files:read', request_details: JSON.stringify({ ticker: 'MSFT' }) });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.deepEqual([replaced.body['token_type'], replaced.body['issued_token_type'], replaced.body['refresh_token']], ['N_A', TXN, undefined]);
    const second = decodeJwt(replaced.body['access_token'] as string).payload;
    assert.deepEqual([second['txn'], second['sub'], second['aud']], [first['txn'], first['sub'], first['aud']], 'TT-09: txn, sub and aud never change');
    assert.equal(second['scope'], 'files:read');
    assert.deepEqual(second['tctx'], { ticker: 'MSFT' });
    assert.equal(second['req_wl'], s.uris.backend);
    assert.deepEqual((second['rctx'] as Body)['req_wl_chain'], [s.uris.gateway, s.uris.backend]);
    assert.equal((second['rctx'] as Body)['req_ip'], (first['rctx'] as Body)['req_ip']);
    assert.equal(second['exp'], first['exp'], 'capped at the original’s expiry, not now + 120');
    assert.notEqual(second['jti'], first['jti']);

    // Without scope or request_details: the same again (a pass-through replacement), by an agent this time.
    const kept = await byAgent(s.agent, { subject_token: original.body['access_token'] as string, subject_token_type: TXN });
    assert.equal(kept.status, 200, JSON.stringify(kept.body));
    const third = decodeJwt(kept.body['access_token'] as string).payload;
    assert.deepEqual([third['scope'], third['tctx']], ['calc files:read', { action: 'BUY', ticker: 'MSFT' }]);

    // TT-09: an expired Txn-Token is never replaced.
    server.clock.advance((first['exp'] as number) - server.clock.now());
    assert.deepEqual(refusal(await byResource(s.backend.apiKey, { subject_token: original.body['access_token'] as string, subject_token_type: TXN })), [400, 'invalid_request', 'subject_token is not valid (expired)']);
  });

  test('TT-09 (acceptance): a replacement with a wider scope, or a tctx member added or changed, is refused', async () => {
    const s = await setting();
    const original = await byResource(s.gateway.apiKey, { subject_token: s.userToken, scope: 'files:read', request_details: JSON.stringify({ ticker: 'MSFT', quantity: '100' }) });
    const token = original.body['access_token'] as string;
    const replace = (params: Record<string, string>) => byResource(s.backend.apiKey, { subject_token: token, subject_token_type: TXN, ...params });
    assert.deepEqual(refusal(await replace({ scope: 'files:read calc' })), [400, 'invalid_scope', "scope calc exceeds the Txn-Token's scope (files:read): a replacement never widens it"]);
    assert.deepEqual(refusal(await replace({ request_details: JSON.stringify({ ticker: 'MSFT', quantity: '1000' }) })), [400, 'invalid_request', `request_details may only drop members of the Txn-Token's tctx: "quantity" differs from the Txn-Token's tctx`]);
    assert.deepEqual(refusal(await replace({ request_details: JSON.stringify({ ticker: 'MSFT', price: '1' }) })), [400, 'invalid_request', `request_details may only drop members of the Txn-Token's tctx: "price" is not in the Txn-Token's tctx`]);
    assert.deepEqual(refusal(await replace({ request_context: JSON.stringify({ req_ip: '10.0.0.1' }) })), [400, 'invalid_request', 'request_context cannot be changed by a replacement: the Txn-Token keeps its rctx']);
    // A replacement of a replacement cannot widen back what the first one dropped.
    const narrowed = await replace({ request_details: JSON.stringify({ ticker: 'MSFT' }) });
    const back = await byResource(s.backend.apiKey, { subject_token: narrowed.body['access_token'] as string, subject_token_type: TXN, request_details: JSON.stringify({ ticker: 'MSFT', quantity: '100' }) });
    assert.deepEqual(refusal(back), [400, 'invalid_request', `request_details may only drop members of the Txn-Token's tctx: "quantity" is not in the Txn-Token's tctx`]);
    // An access token is not a Txn-Token.
    assert.deepEqual(refusal(await byResource(s.backend.apiKey, { subject_token: s.userToken, subject_token_type: TXN })), [400, 'invalid_request', 'subject_token is not valid (invalid)']);
  });

  test('lifecycle: revoking the subject token makes the Txn-Token and its replacements inactive; so does disabling the requesting agent', async () => {
    const s = await setting();
    const txn = (await byResource(s.gateway.apiKey, { subject_token: s.userToken, scope: 'calc' })).body['access_token'] as string;
    const replacement = (await byResource(s.backend.apiKey, { subject_token: txn, subject_token_type: TXN })).body['access_token'] as string;
    const introspected = (await (await server.postForm('/introspect', { token: txn }, { authorization: `Bearer ${s.backend.apiKey}` })).json()) as Body;
    assert.equal(introspected['active'], true);
    assert.deepEqual([introspected['txn'], introspected['req_wl'], introspected['scope'], introspected['aud'], introspected['token_type']], [decodeJwt(txn).payload['txn'], s.uris.gateway, 'calc', TRUST_DOMAIN, 'N_A']);
    assert.equal(await isActive(server, s.backend.apiKey, replacement), true);
    // A client does not introspect Txn-Tokens (they are no credential of its).
    const byApp = (await (await server.postForm('/introspect', { token: txn }, { authorization: basicAuth(s.agent.clientId, s.agent.clientSecret) })).json()) as Body;
    assert.equal(byApp['active'], false);

    const revoked = await server.postForm('/revoke', { token: s.userToken, client_id: s.app.clientId });
    assert.equal(revoked.status, 200);
    assert.equal(await isActive(server, s.backend.apiKey, txn), false, 'the Txn-Token dies with its subject token');
    assert.equal(await isActive(server, s.backend.apiKey, replacement), false, 'and so does its replacement');
    assert.deepEqual(refusal(await byResource(s.backend.apiKey, { subject_token: txn, subject_token_type: TXN })), [400, 'invalid_request', 'subject_token is not valid (inactive)']);

    // An agent's Txn-Token ends when the agent is disabled, and re-enabling revives nothing.
    const a = await agent({ audiences: [s.uris.gateway], txn_tokens: true });
    const own = await agentToken(server, a, { scope: 'calc', resource: s.uris.gateway });
    const agentTxn = (await byAgent(a, { subject_token: own, scope: 'calc' })).body['access_token'] as string;
    assert.equal(await isActive(server, s.backend.apiKey, agentTxn), true);
    assert.equal((await server.admin('POST', `/agents/${a.clientId}/disable`)).status, 200);
    assert.equal(await isActive(server, s.backend.apiKey, agentTxn), false);
    assert.equal((await server.admin('POST', `/agents/${a.clientId}/enable`)).status, 200);
    assert.equal(await isActive(server, s.backend.apiKey, agentTxn), false, 're-enabling never revives');
  });
});

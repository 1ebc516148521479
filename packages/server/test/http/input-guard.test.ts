import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, test } from 'node:test';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { SoftwareAuthenticator } from '../helpers/software-authenticator.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createApp, createUser, inputValue, PASSWORD } from '../helpers/user-flow.ts';

/**
 * SR-11: text the database cannot store (a NUL, an unpaired surrogate) is refused with 400 in the endpoint's format
 * before the store, everywhere input arrives; the store refuses it again; a duplicate passkey is a 409. On SQLite the
 * same requests must get the same answers (they were 500 only on PostgreSQL).
 */

const NUL = '\u0000';
const SURROGATE = '\ud800';

/** Raw HTTP: fetch would refuse or rewrite some of these requests before sending them. */
function send(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    const headers = { ...init.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
    const req = httpRequest(url, { method: init.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

forEachStore('SR-11 text the database cannot store', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string; apiKey: string };
  let token: string;

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server);
    const issued = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    token = ((await issued.json()) as { access_token: string }).access_token;
  });
  after(() => server.close());

  const oauthRefusal = (response: { status: number; contentType: string; body: string }, why: string) => {
    assert.equal(response.status, 400, `${why}: ${response.body}`);
    assert.match(response.contentType, /^application\/json/, why);
    assert.equal((JSON.parse(response.body) as { error: string }).error, 'invalid_request', why);
  };
  const problemRefusal = (response: { status: number; contentType: string; body: string }, why: string) => {
    assert.equal(response.status, 400, `${why}: ${response.body}`);
    assert.match(response.contentType, /^application\/problem\+json/, why);
    assert.equal((JSON.parse(response.body) as { type: string }).type, 'urn:mandate:problem:invalid-request', why);
  };

  test('SR-11 a NUL in any OAuth parameter, name or value, or in Basic credentials → 400 invalid_request at token, introspect and revoke', async () => {
    const basic = { authorization: basicAuth(agent.clientId, agent.clientSecret), ...FORM };
    const cases: [string, string, Record<string, string>][] = [
      ['/token', form({ grant_type: 'client_credentials', scope: `calc${NUL}` }), basic],
      ['/token', form({ grant_type: 'client_credentials', [`x${NUL}`]: '1' }), basic],
      ['/token', form({ grant_type: `client${NUL}credentials` }), basic],
      ['/token', form({ grant_type: 'client_credentials', client_id: `${agent.clientId}${NUL}`, client_secret: agent.clientSecret }), FORM],
      ['/introspect', form({ token: `${token}${NUL}` }), { authorization: `Bearer ${agent.apiKey}`, ...FORM }],
      ['/introspect', form({ token, token_type_hint: NUL }), { authorization: `Bearer ${agent.apiKey}`, ...FORM }],
      ['/revoke', form({ token: `x${NUL}y` }), basic],
      ['/revoke', form({ token: 'x', client_id: NUL }), FORM],
    ];
    for (const [path, body, headers] of cases) oauthRefusal(await send(`${server.issuer}${path}`, { method: 'POST', headers, body }), `${path} ${JSON.stringify(body)}`);
    // Basic credentials are decoded after the guard: their client id with a NUL is a failed authentication, not a 500.
    for (const path of ['/token', '/revoke', '/introspect']) {
      const response = await send(`${server.issuer}${path}`, { method: 'POST', headers: { authorization: basicAuth(`${agent.clientId}${NUL}`, agent.clientSecret), ...FORM }, body: form({ grant_type: 'client_credentials', token: 'x' }) });
      assert.equal(response.status, 401, `${path}: ${response.body}`);
      assert.equal((JSON.parse(response.body) as { error: string }).error, 'invalid_client');
    }
  });

  test('SR-11 /authorize, /login and the consent form: a NUL in any parameter → 400 error page, never a 500 or a redirect', async () => {
    const app = await createApp(server, { public: true });
    const query = { response_type: 'code', client_id: app.clientId, redirect_uri: 'https://app.example.com/callback', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256', scope: 'calc', state: 's' };
    for (const name of [...Object.keys(query), 'nonce', 'resource', 'requested_actor', 'prompt', `x${NUL}`]) {
      const params = new URLSearchParams({ ...query, [name]: `v${NUL}` });
      const response = await send(`${server.issuer}/authorize?${params}`);
      assert.equal(response.status, 400, `${name}: ${response.status} ${response.body.slice(0, 200)}`);
      assert.match(response.contentType, /^text\/html/, name);
      assert.match(response.body, /NUL character/, name);
    }
    const browser = new Browser();
    const loginPage = await (await browser.fetch(`${server.issuer}/login`)).text();
    const csrf = inputValue(loginPage, 'csrf');
    for (const field of ['email', 'password', 'csrf']) {
      const fields: Record<string, string> = { csrf, email: 'ada@example.com', password: PASSWORD, return_to: '/account', [field]: `x${NUL}` };
      const response = await browser.postForm(`${server.issuer}/login`, fields);
      assert.equal(response.status, 400, field);
      assert.match(await response.text(), /NUL character/, field);
    }
    // return_to alone is repaired, not refused: it is never stored as given, and a correct login goes on (SR-19).
    await createUser(server, 'nul-return@example.com');
    const repaired = await browser.postForm(`${server.issuer}/login`, { csrf, email: 'nul-return@example.com', password: PASSWORD, return_to: `/account${NUL}` });
    assert.equal(repaired.status, 303);
    assert.equal(repaired.headers.get('location'), '/account');
    const consent = await browser.postForm(`${server.issuer}/authorize/consent`, { csrf, request: `r${NUL}`, decision: 'approve' });
    assert.equal(consent.status, 400);
  });

  test('SR-11 admin API: a NUL in an id or a filter, a NUL or an unpaired surrogate in a JSON body (keys too) → 400 problem+json, nothing written', async () => {
    const admin = { authorization: `Bearer ${server.adminToken}` };
    const json = { ...admin, 'content-type': 'application/json' };
    for (const path of [`/agents/agt${encodeURIComponent(NUL)}x`, `/users/${encodeURIComponent(NUL)}`, `/clients/a${encodeURIComponent(NUL)}`, `/resources/${encodeURIComponent(NUL)}`, `/audit?principal=${encodeURIComponent(NUL)}`, `/audit?event=x%00`]) {
      problemRefusal(await send(`${server.issuer}/admin/v1${path}`, { headers: admin }), path);
    }
    problemRefusal(await send(`${server.issuer}/admin/v1/agents/x%00/disable`, { method: 'POST', headers: admin }), 'disable');
    const before = (await server.store.listClients({ kind: 'agent' })).length;
    for (const body of [
      JSON.stringify({ name: `agent${NUL}` }),
      JSON.stringify({ name: 'agent', description: `a${SURROGATE}b` }),
      `{"name":"agent","description":"a\\ud800"}`,
      `{"name":"agent","description":"a\\u0000"}`,
      JSON.stringify({ name: 'agent', [`x${NUL}`]: 1 }),
    ]) {
      const response = await send(`${server.issuer}/admin/v1/agents`, { method: 'POST', headers: json, body });
      problemRefusal(response, body);
    }
    const userResponse = await send(`${server.issuer}/admin/v1/users`, { method: 'POST', headers: json, body: JSON.stringify({ email: 'nul@example.com', name: `N${NUL}` }) });
    problemRefusal(userResponse, 'user name');
    assert.equal((await server.store.listClients({ kind: 'agent' })).length, before, 'nothing written');
    assert.equal(await server.store.getUserByEmail('nul@example.com'), null, 'nothing written');
  });

  test('SR-11 the store refuses such text itself and the audit trail quotes it as ␀, so a path the guard does not know still answers 400', async () => {
    await assert.rejects(server.store.getClient(`x${NUL}`), { name: 'StoreInputError' });
    await assert.rejects(server.store.saveConsent({ userId: 'u', clientId: `c${SURROGATE}`, actorId: '', resource: '', scopes: [], createdAt: 1, updatedAt: 1 }), { name: 'StoreInputError' });
    await assert.rejects(server.store.updateClient(agent.clientId, { allowedScopes: [`calc${NUL}`] }), { name: 'StoreInputError' });
    await server.context.audit.record({ event: 'test.quoted', actor: `a${NUL}b`, detail: { [`k${NUL}`]: `v${NUL}${SURROGATE}` } });
    const [row] = await server.store.listAuditRows({ event: 'test.quoted', limit: 1 });
    assert.equal(row?.actor, 'a\u2400b');
    assert.deepEqual(row?.detail, { 'k\u2400': 'v\u2400\ufffd' });
    assert.equal((await server.context.audit.verify()).ok, true);
  });

  test('SR-11 registering a passkey whose credential id is registered already → 409, not 500 (same user or another)', async () => {
    const origin = new URL(server.issuer).origin;
    const signedIn = async (email: string) => {
      await createUser(server, email);
      const browser = new Browser();
      const page = await (await browser.fetch(`${server.issuer}/login`)).text();
      const response = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), return_to: inputValue(page, 'return_to'), email, password: PASSWORD });
      assert.equal(response.status, 303);
      const account = await (await browser.fetch(`${server.issuer}/account`)).text();
      return { browser, csrf: /data-csrf="([^"]+)"/.exec(account)![1]! };
    };
    const register = async (session: { browser: Browser; csrf: string }, authenticator: SoftwareAuthenticator) => {
      const headers = { 'content-type': 'application/json', 'x-csrf-token': session.csrf };
      const options = (await (await session.browser.fetch(`${server.issuer}/account/passkeys/options`, { method: 'POST', headers, body: '{}' })).json()) as { challenge: string; rp: { id: string } };
      return session.browser.fetch(`${server.issuer}/account/passkeys`, { method: 'POST', headers, body: JSON.stringify({ response: authenticator.register(options, origin) }) });
    };
    const authenticator = new SoftwareAuthenticator();
    const ada = await signedIn('passkey-ada@example.com');
    const first = await register(ada, authenticator);
    assert.equal(first.status, 200, await first.clone().text());
    for (const session of [ada, await signedIn('passkey-eve@example.com')]) {
      const again = await register(session, new SoftwareAuthenticator(authenticator.credentialId));
      assert.equal(again.status, 409, await again.clone().text());
      assert.match(again.headers.get('content-type') ?? '', /^application\/problem\+json/);
    }
  });
});

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createDpopProof, dpopKeyFrom } from '@mandate/protocol';
import { deriveUserCodeKey, loadKek } from '../../src/keys/kek.ts';
import { hashSecret } from '../../src/tokens/secret.ts';
import { normalizeUserCode, userCodeHash } from '../../src/tokens/user-code.ts';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createApp, createUser, inputValue, PASSWORD } from '../helpers/user-flow.ts';

/**
 * RFC 8628 device authorization grant (issue 13 item 7) over real HTTP: the device authorization endpoint, the
 * verification pages (sign in, enter the code, confirm or deny), and the token endpoint's polling answers exactly as
 * §3.5 specifies. The server's clock is the test's: poll intervals and expiry pass without sleeping.
 */

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
let counter = 0;

interface DeviceResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

forEachStore('device authorization grant (RFC 8628)', (fixture) => {
  let server: TestServer;

  before(async () => {
    // Every test here enters codes from 127.0.0.1 on a frozen clock: the per-address budget has its own test below.
    server = await startTestServer(fixture, { device: { userCodeAttemptsPerIpPerMinute: 0, requestsPerIpPerMinute: 0 } });
    await createUser(server, 'device-user@example.com');
  });
  after(() => server.close());

  /** A public client (a CLI) allowed the device grant, and a resource for it. */
  async function setUp(extra: Record<string, unknown> = {}) {
    const uri = `https://device-${++counter}.example.com/mcp`;
    const { apiKey } = await registerAgentAndResource(server, {}, uri);
    const app = await createApp(server, { public: true, scopes: ['calc', 'files:read', 'exec'], audiences: [uri], grant_types: [DEVICE_CODE, 'refresh_token'], ...extra });
    const start = (params: Record<string, string | string[]> = {}) => server.postForm('/device_authorization', { client_id: app.clientId, scope: 'calc', resource: uri, ...params });
    const poll = (deviceCode: string, headers: Record<string, string> = {}, clientId = app.clientId) => server.postForm('/token', { grant_type: DEVICE_CODE, device_code: deviceCode, client_id: clientId }, headers);
    const started = async (params: Record<string, string | string[]> = {}) => {
      const response = await start(params);
      assert.equal(response.status, 200, await response.clone().text());
      return (await response.json()) as DeviceResponse;
    };
    return { uri, apiKey, app, start, started, poll };
  }

  /** Signs a browser in through the verification page's login redirect; returns the code entry page. */
  async function signInAt(browser: Browser, path: string, email = 'device-user@example.com'): Promise<string> {
    let response = await browser.fetch(`${server.issuer}${path}`);
    if (response.status === 302) {
      const login = new URL(response.headers.get('location')!, server.issuer);
      assert.equal(login.pathname, '/login');
      const loginPage = await (await browser.fetch(login.href)).text();
      response = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(loginPage, 'csrf'), return_to: inputValue(loginPage, 'return_to'), email, password: PASSWORD });
      assert.equal(response.status, 303);
      assert.equal(response.headers.get('location'), path);
      response = await browser.fetch(`${server.issuer}${path}`);
    }
    assert.equal(response.status, 200);
    return response.text();
  }

  /** Enters `typed` on the page and answers the confirmation with `decision`. */
  async function enterAndDecide(browser: Browser, entryPage: string, typed: string, decision: 'approve' | 'deny'): Promise<{ confirm: Response; confirmPage: string; decided: Response }> {
    const confirm = await browser.postForm(`${server.issuer}/device`, { csrf: inputValue(entryPage, 'csrf'), user_code: typed });
    const confirmPage = await confirm.clone().text();
    if (confirm.status !== 200) return { confirm, confirmPage, decided: confirm };
    const decided = await browser.postForm(`${server.issuer}/device/decision`, { csrf: inputValue(confirmPage, 'csrf'), user_code: inputValue(confirmPage, 'user_code'), decision });
    return { confirm, confirmPage, decided };
  }

  const errorOf = async (response: Response) => {
    assert.equal(response.status, 400, `expected 400, got ${response.status}`);
    return ((await response.json()) as { error: string }).error;
  };

  test('DAG metadata: device_authorization_endpoint and the grant type', async () => {
    const metadata = (await (await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.equal(metadata['device_authorization_endpoint'], `${server.issuer}/device_authorization`);
    assert.ok((metadata['grant_types_supported'] as string[]).includes(DEVICE_CODE));
  });

  test('DAG device authorization response: the §3.2 members; a short user code of the unambiguous alphabet; stored only as hashes (the user code keyed by the KEK)', async () => {
    const { started, app } = await setUp();
    const body = await started();
    assert.match(body.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.ok(body.device_code.length >= 43);
    assert.equal(body.verification_uri, `${server.issuer}/device`);
    assert.equal(body.verification_uri_complete, `${server.issuer}/device?user_code=${body.user_code}`);
    assert.equal(body.expires_in, 600);
    assert.equal(body.interval, 5);
    const normalized = normalizeUserCode(body.user_code)!;
    assert.equal(await server.store.getDeviceAuthorizationByUserCode(hashSecret(normalized)), null, 'not a plain SHA-256: 2^34.6 codes are hashed through in minutes');
    const record = await server.store.getDeviceAuthorizationByUserCode(userCodeHash(deriveUserCodeKey(loadKek(server.config.keys)), normalized));
    assert.ok(record, 'an HMAC under the key derived from the KEK');
    assert.equal(record.clientId, app.clientId);
    assert.equal(record.deviceCodeHash, hashSecret(body.device_code));
    const stored = JSON.stringify(record);
    assert.ok(!stored.includes(body.device_code) && !stored.includes(body.user_code) && !stored.includes(normalizeUserCode(body.user_code)!));
  });

  test('DAG the endpoint refuses: no client (401 invalid_client), a client not allowed the grant (unauthorized_client), a scope it may not have (invalid_scope)', async () => {
    const { uri } = await setUp();
    const anonymous = await server.postForm('/device_authorization', { scope: 'calc', resource: uri });
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'invalid_client');
    const codeOnly = await createApp(server, { public: true, scopes: ['calc'], audiences: [uri] });
    const refused = await server.postForm('/device_authorization', { client_id: codeOnly.clientId, scope: 'calc', resource: uri });
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: string }).error, 'unauthorized_client');
    const { start } = await setUp({ scopes: ['calc'] });
    assert.equal(await errorOf(await start({ scope: 'nope' })), 'invalid_scope');
  });

  test('DAG-01 pending → authorization_pending; polling sooner than the interval → slow_down, and the interval grows by 5 s for later polls', async () => {
    const { started, poll } = await setUp();
    const { device_code } = await started();
    assert.equal(await errorOf(await poll(device_code)), 'authorization_pending');
    // At once again: too soon (interval 5).
    assert.equal(await errorOf(await poll(device_code)), 'slow_down');
    // The interval is now 10: 5 s later is still too soon (and grows it to 15) ...
    server.clock.advance(5);
    assert.equal(await errorOf(await poll(device_code)), 'slow_down');
    // ... 15 s after that is on time.
    server.clock.advance(15);
    assert.equal(await errorOf(await poll(device_code)), 'authorization_pending');
    server.clock.advance(15);
    assert.equal(await errorOf(await poll(device_code)), 'authorization_pending');
  });

  test('DAG the person signs in, enters the code (lower case, no dash), approves; the polling client gets the person’s tokens, once (DAG-02: a used code → invalid_grant)', async () => {
    const { started, poll, uri, apiKey, app } = await setUp();
    const body = await started({ scope: 'openid calc offline_access' });
    const browser = new Browser();
    // verification_uri_complete, signed out: login first, then back with the code prefilled (never submitted by the link).
    const entryPage = await signInAt(browser, new URL(body.verification_uri_complete).pathname + new URL(body.verification_uri_complete).search);
    assert.equal(inputValue(entryPage, 'user_code'), body.user_code);
    const { confirm, confirmPage, decided } = await enterAndDecide(browser, entryPage, body.user_code.replace('-', '').toLowerCase(), 'approve');
    assert.equal(confirm.status, 200);
    assert.ok(confirmPage.includes(body.user_code), 'the confirmation page shows the code to compare with the device');
    assert.ok(confirmPage.includes(app.clientId));
    assert.equal(decided.status, 200);
    assert.match(await decided.text(), /Device connected/);

    server.clock.advance(5);
    const tokens = await poll(body.device_code);
    assert.equal(tokens.status, 200, await tokens.clone().text());
    const issued = (await tokens.json()) as { access_token: string; token_type: string; refresh_token?: string; id_token?: string; scope: string };
    assert.equal(issued.token_type, 'Bearer');
    const claims = decodeJwt(issued.access_token).payload;
    const user = await server.store.getUserByEmail('device-user@example.com');
    assert.equal(claims['sub'], user!.id);
    assert.equal(claims['client_id'], app.clientId);
    assert.deepEqual([claims['aud']].flat().filter((a) => a === uri), [uri]);
    assert.ok(issued.refresh_token, 'offline_access gives a refresh token');
    assert.ok(issued.id_token, 'openid gives an ID token');
    const introspected = (await (await server.postForm('/introspect', { token: issued.access_token }, { authorization: `Bearer ${apiKey}` })).json()) as { active: boolean };
    assert.equal(introspected.active, true);

    // DAG-02: the code is spent.
    server.clock.advance(5);
    assert.equal(await errorOf(await poll(body.device_code)), 'invalid_grant');
    // The refresh token works like any other of a user grant.
    const refreshed = await server.postForm('/token', { grant_type: 'refresh_token', refresh_token: issued.refresh_token!, client_id: app.clientId });
    assert.equal(refreshed.status, 200, await refreshed.clone().text());
  });

  test('DAG a confirmation does not outlive a disable: the user disabled and enabled again before the poll → invalid_grant, no token', async () => {
    const { started, poll } = await setUp();
    const email = `revive-${++counter}@example.com`;
    const userId = await createUser(server, email);
    const body = await started({ scope: 'calc' });
    const browser = new Browser();
    const { decided } = await enterAndDecide(browser, await signInAt(browser, '/device', email), body.user_code, 'approve');
    assert.equal(decided.status, 200);
    server.clock.advance(2);
    assert.equal((await server.admin('POST', `/users/${userId}/disable`)).status, 200);
    server.clock.advance(2);
    assert.equal((await server.admin('POST', `/users/${userId}/enable`)).status, 200);
    server.clock.advance(5);
    const refused = await poll(body.device_code);
    assert.equal(refused.status, 400);
    const error = (await refused.json()) as { error: string; error_description: string };
    assert.equal(error.error, 'invalid_grant');
    assert.match(error.error_description, /no longer stands: the user was disabled \(or reset\) after it was issued/);
  });

  test('DAG the person denies → access_denied; the code cannot be entered again', async () => {
    const { started, poll } = await setUp();
    const body = await started();
    const browser = new Browser();
    const entryPage = await signInAt(browser, '/device');
    const { decided } = await enterAndDecide(browser, entryPage, body.user_code, 'deny');
    assert.equal(decided.status, 200);
    assert.match(await decided.text(), /Request denied/);
    assert.equal(await errorOf(await poll(body.device_code)), 'access_denied');
    const again = await enterAndDecide(browser, await signInAt(browser, '/device'), body.user_code, 'approve');
    assert.equal(again.confirm.status, 400);
  });

  test('DAG-02 an expired code → expired_token, and the page refuses it', async () => {
    const { started, poll } = await setUp();
    const body = await started();
    server.clock.advance(601);
    assert.equal(await errorOf(await poll(body.device_code)), 'expired_token');
    const browser = new Browser();
    const { confirm } = await enterAndDecide(browser, await signInAt(browser, '/device'), body.user_code, 'approve');
    assert.equal(confirm.status, 400);
    assert.match(await confirm.text(), /not valid/);
  });

  test('DAG another client’s device code, or an unknown one → invalid_grant (and the owner’s request is untouched)', async () => {
    const { started, poll } = await setUp();
    const other = await setUp();
    const body = await started();
    assert.equal(await errorOf(await other.poll(body.device_code)), 'invalid_grant');
    assert.equal(await errorOf(await poll('not-a-device-code')), 'invalid_grant');
    assert.equal(await errorOf(await poll(body.device_code)), 'authorization_pending');
  });

  test('DAG scope policies apply at approval, as on the consent page: a denied scope turns the approval into access_denied naming the policy', async () => {
    const { started, poll, uri } = await setUp();
    const resources = (await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] };
    const id = resources.resources.find((r) => r.resource === uri)!.id;
    const set = await server.admin('PUT', `/resources/${id}/policies/exec`, { policy: 'deny' });
    assert.equal(set.status, 200, await set.clone().text());
    const body = await started({ scope: 'calc exec' });
    const browser = new Browser();
    const { decided } = await enterAndDecide(browser, await signInAt(browser, '/device'), body.user_code, 'approve');
    assert.equal(decided.status, 200);
    assert.match(await decided.text(), /policy deny/);
    const refused = await poll(body.device_code);
    assert.equal(refused.status, 400);
    const error = (await refused.json()) as { error: string; error_description: string };
    assert.equal(error.error, 'access_denied');
    assert.match(error.error_description, /scope exec is refused by policy deny/);
  });

  test('DAG a token request with a DPoP proof gets a DPoP-bound token (RFC 9449 §5), as every grant does', async () => {
    const { started, poll } = await setUp();
    const body = await started();
    const browser = new Browser();
    await enterAndDecide(browser, await signInAt(browser, '/device'), body.user_code, 'approve');
    const key = dpopKeyFrom(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
    server.clock.advance(5);
    const proof = createDpopProof(key, { method: 'POST', url: `${server.issuer}/token` }, server.clock.now());
    const response = await poll(body.device_code, { dpop: proof });
    assert.equal(response.status, 200, await response.clone().text());
    const issued = (await response.json()) as { access_token: string; token_type: string };
    assert.equal(issued.token_type, 'DPoP');
    assert.deepEqual(decodeJwt(issued.access_token).payload['cnf'], { jkt: key.jkt });
  });

  test('DAG the verification pages need CSRF and a signed-in session; the entry form is accessible (label, description)', async () => {
    const browser = new Browser();
    const entryPage = await signInAt(browser, '/device?user_code=bcdf-ghjk');
    assert.match(entryPage, /<label for="user_code">/);
    assert.match(entryPage, /aria-describedby="code-help"/);
    assert.equal(inputValue(entryPage, 'user_code'), 'bcdf-ghjk');
    const noCsrf = await browser.postForm(`${server.issuer}/device`, { user_code: 'BCDF-GHJK' });
    assert.equal(noCsrf.status, 403);
    const stranger = await new Browser().postForm(`${server.issuer}/device/decision`, { user_code: 'BCDF-GHJK', decision: 'approve' });
    assert.equal(stranger.status, 403);
  });

  test('DAG an agent (its own credentials) may use the device grant: a headless agent asks a person to approve', async () => {
    const uri = `https://device-agent-${++counter}.example.com/mcp`;
    const agent = await registerAgentAndResource(server, {}, uri);
    const response = await server.postForm('/device_authorization', { scope: 'calc', resource: uri }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(response.status, 200, await response.clone().text());
  });
});

forEachStore('device verification throttling (RFC 8628 §5.1)', (fixture) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(fixture, { device: { userCodeAttemptsPerIpPerMinute: 3, userCodeFailuresPerMinute: 1000 } });
    await createUser(server, 'throttled@example.com');
  });
  after(() => server.close());

  test('DAG user codes entered from one address are limited per minute: past the budget, 429 with Retry-After, until it refills', async () => {
    const browser = new Browser();
    let response = await browser.fetch(`${server.issuer}/device`);
    const loginPage = await (await browser.fetch(new URL(response.headers.get('location')!, server.issuer).href)).text();
    await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(loginPage, 'csrf'), return_to: inputValue(loginPage, 'return_to'), email: 'throttled@example.com', password: PASSWORD });
    const page = await (await browser.fetch(`${server.issuer}/device`)).text();
    const guess = () => browser.postForm(`${server.issuer}/device`, { csrf: inputValue(page, 'csrf'), user_code: 'BCDF-GHJK' });
    for (let i = 0; i < 3; i++) assert.equal((await guess()).status, 400);
    response = await guess();
    assert.equal(response.status, 429);
    assert.ok(Number(response.headers.get('retry-after')) > 0);
    server.clock.advance(60);
    assert.equal((await guess()).status, 400);
  });
});

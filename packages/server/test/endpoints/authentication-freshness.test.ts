import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decodeJwt, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser, inputValue, PASSWORD, pkce, redeemCode, redirectParams } from '../helpers/user-flow.ts';

const REDIRECT = 'https://app.example.com/callback';
const LOOPBACK = 'http://127.0.0.1/callback';

/**
 * Issue 10, findings 5, 13 and 16, over real HTTP on both stores: a public client never gets a code without the
 * user's interaction; `prompt=login` and `max_age` ask for a new authentication without ending the session on a GET;
 * ID tokens say when and how the user authenticated (`auth_time`, `amr`); sessions end when idle.
 */
forEachStore('authentication freshness and interaction (SR-05, SR-13, SR-16)', (fixture) => {
  let server: TestServer;
  let publicApp: { clientId: string };
  let confidentialApp: { clientId: string; clientSecret?: string };
  const idle = 600;

  before(async () => {
    server = await startTestServer(fixture, { users: { sessionIdleTimeoutSeconds: idle, sessionTtlSeconds: 3600 } });
    await registerAgentAndResource(server);
    await createUser(server, 'ada@example.com');
    publicApp = await createApp(server, { name: 'Desktop App', public: true, redirect_uris: [LOOPBACK] });
    confidentialApp = await createApp(server, { name: 'Web App', redirect_uris: [REDIRECT] });
  });
  after(() => server.close());

  const request = (clientId: string, redirectUri: string, extra: Record<string, string> = {}) => {
    const { verifier, challenge } = pkce();
    const params = { response_type: 'code', client_id: clientId, redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 's', scope: 'openid calc', resource: MCP_RESOURCE, ...extra };
    return { params, verifier };
  };
  const open = (browser: Browser, params: Record<string, string>) => browser.fetch(`${server.issuer}/authorize?${new URLSearchParams(params)}`);
  const location = (response: Response) => new URL(response.headers.get('location')!, server.issuer);

  /** A browser signed in through one approved (and remembered) authorization of `clientId`. */
  async function signedIn(clientId: string, redirectUri: string): Promise<Browser> {
    const browser = new Browser();
    const { response } = await authorizeInBrowser(server, browser, request(clientId, redirectUri).params);
    assert.ok(redirectParams(response).get('code'));
    return browser;
  }

  async function idToken(clientId: string, redirectUri: string, response: Response, verifier: string, secret?: string) {
    const code = redirectParams(response).get('code');
    assert.ok(code, `a code: ${response.headers.get('location')}`);
    const tokens = await redeemCode(server, { clientId, scope: 'openid calc', redirectUri, ...(secret ? { clientSecret: secret } : {}) }, code, verifier);
    assert.equal(tokens.status, 200);
    return decodeJwt(((await tokens.json()) as { id_token: string }).id_token).payload;
  }

  test('SR-05 a public client never gets a code silently: remembered consent shows a confirmation, prompt=none → interaction_required', async () => {
    const browser = await signedIn(publicApp.clientId, LOOPBACK);
    // Another program on the machine claims the same public client id on another loopback port.
    const other = 'http://127.0.0.1:49152/callback';
    const silent = await open(browser, request(publicApp.clientId, other, { prompt: 'none' }).params);
    assert.equal(silent.status, 302);
    const refused = redirectParams(silent);
    assert.equal(refused.get('error'), 'interaction_required');
    assert.equal(refused.get('code'), null);
    assert.equal(location(silent).port, '49152', 'the error goes to the redirect URI that asked');

    const again = request(publicApp.clientId, other);
    const page = await open(browser, again.params);
    assert.equal(page.status, 200, 'the consent page, not a code');
    const html = await page.text();
    assert.match(html, /You allowed this before/);
    assert.match(html, /127\.0\.0\.1:49152/, 'the page names where the code would go');
    const approved = await browser.postForm(`${server.issuer}/authorize/consent`, { csrf: inputValue(html, 'csrf'), request: inputValue(html, 'request'), decision: 'approve' });
    assert.equal(approved.status, 303);
    assert.ok(redirectParams(approved).get('code'), 'the user’s confirmation gives the code');

    const audit = (await (await server.admin('GET', '/audit?event=authorization.refused')).json()) as { events: { client_id: string; detail: { error: string } }[] };
    assert.ok(audit.events.some((e) => e.client_id === publicApp.clientId && e.detail.error === 'interaction_required'));
  });

  test('SR-05 a confidential client keeps silent re-authorization with remembered consent (prompt=none too)', async () => {
    const browser = await signedIn(confidentialApp.clientId, REDIRECT);
    const second = await open(browser, request(confidentialApp.clientId, REDIRECT).params);
    assert.equal(second.status, 302);
    assert.ok(redirectParams(second).get('code'));
    const none = await open(browser, request(confidentialApp.clientId, REDIRECT, { prompt: 'none' }).params);
    assert.ok(redirectParams(none).get('code'));
  });

  test('SR-16 max_age that is not a whole number of seconds → invalid_request, redirected with state and iss', async () => {
    const browser = await signedIn(confidentialApp.clientId, REDIRECT);
    for (const maxAge of ['abc', '-1', '1.5', ' 5', '1e3', '0x10', '99999999999']) {
      const response = await open(browser, request(confidentialApp.clientId, REDIRECT, { max_age: maxAge }).params);
      assert.equal(response.status, 302, maxAge);
      const back = redirectParams(response);
      assert.equal(back.get('error'), 'invalid_request', maxAge);
      assert.match(back.get('error_description')!, /max_age/);
      assert.equal(back.get('iss'), server.issuer);
      assert.equal(back.get('code'), null);
    }
  });

  test('SR-16 max_age older than the last login asks for a new one, keeping the session until it succeeds; auth_time and amr say so', async () => {
    const browser = await signedIn(confidentialApp.clientId, REDIRECT);
    const firstLogin = server.clock.now();
    server.clock.advance(120);

    const fresh = request(confidentialApp.clientId, REDIRECT, { max_age: '300' });
    const within = await open(browser, fresh.params);
    const early = await idToken(confidentialApp.clientId, REDIRECT, within, fresh.verifier, confidentialApp.clientSecret);
    assert.equal(early['auth_time'], firstLogin, 'a login within max_age is kept');
    assert.deepEqual(early['amr'], ['pwd']);

    const none = await open(browser, request(confidentialApp.clientId, REDIRECT, { max_age: '60', prompt: 'none' }).params);
    assert.equal(redirectParams(none).get('error'), 'login_required');

    const stale = request(confidentialApp.clientId, REDIRECT, { max_age: '60' });
    const asked = await open(browser, stale.params);
    assert.equal(asked.status, 302);
    const login = location(asked);
    assert.equal(login.pathname, '/login');
    const returnTo = login.searchParams.get('return_to')!;
    assert.doesNotMatch(returnTo, /max_age/, 'the login satisfies max_age: coming back does not ask again');
    assert.equal((await browser.fetch(`${server.issuer}/account`)).status, 200, 'still signed in while the login page is open');

    server.clock.advance(5);
    const page = await (await browser.fetch(login.href)).text();
    const relogin = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), return_to: inputValue(page, 'return_to'), email: 'ada@example.com', password: PASSWORD });
    assert.equal(relogin.status, 303);
    const back = await browser.fetch(new URL(relogin.headers.get('location')!, server.issuer).href);
    const later = await idToken(confidentialApp.clientId, REDIRECT, back, stale.verifier, confidentialApp.clientSecret);
    assert.equal(later['auth_time'], server.clock.now(), 'auth_time is the new login');
    assert.deepEqual(later['amr'], ['pwd']);
  });

  test('SR-16 max_age=0 and prompt=login always ask for a new login', async () => {
    const browser = await signedIn(confidentialApp.clientId, REDIRECT);
    for (const extra of [{ max_age: '0' }, { prompt: 'login' }, { prompt: 'login consent' }] as Record<string, string>[]) {
      const response = await open(browser, request(confidentialApp.clientId, REDIRECT, extra).params);
      assert.equal(response.status, 302, JSON.stringify(extra));
      assert.equal(location(response).pathname, '/login', JSON.stringify(extra));
      const returnTo = location(response).searchParams.get('return_to')!;
      assert.doesNotMatch(returnTo, /max_age|prompt=login/);
      if (extra['prompt'] === 'login consent') assert.match(returnTo, /prompt=consent/, 'other prompt values stay');
    }
  });

  test('SR-13 GET /authorize?prompt=login changes nothing: a cross-site link does not sign the user out', async () => {
    const browser = await signedIn(confidentialApp.clientId, REDIRECT);
    const cookie = browser.cookies.get('mandate_session');
    const link = await open(browser, request(confidentialApp.clientId, REDIRECT, { prompt: 'login' }).params);
    assert.equal(link.status, 302);
    assert.equal(link.headers.get('set-cookie'), null, 'the session cookie is neither cleared nor replaced');
    assert.equal(browser.cookies.get('mandate_session'), cookie);
    assert.equal((await browser.fetch(`${server.issuer}/account`)).status, 200, 'still signed in');
    // The same with a bare cookie jar that only carries the cookie (no page of ours was opened in between).
    const bare = new Browser();
    bare.cookies.set('mandate_session', cookie!);
    await open(bare, request(confidentialApp.clientId, REDIRECT, { prompt: 'login' }).params);
    assert.equal((await bare.fetch(`${server.issuer}/account`)).status, 200);
  });

  test('SR-16 the ID token from a refresh keeps the grant’s auth_time and amr', async () => {
    const refreshing = await createApp(server, { name: 'Refreshing App', redirect_uris: [REDIRECT], scopes: ['calc'], grant_types: ['authorization_code', 'refresh_token'] });
    const browser = new Browser();
    const { params, verifier } = request(refreshing.clientId, REDIRECT, { scope: 'openid offline_access calc' });
    const { response } = await authorizeInBrowser(server, browser, params);
    const tokens = await redeemCode(server, { clientId: refreshing.clientId, clientSecret: refreshing.clientSecret!, scope: params.scope }, redirectParams(response).get('code')!, verifier);
    const body = (await tokens.json()) as { id_token: string; refresh_token: string };
    const first = decodeJwt(body.id_token).payload;
    server.clock.advance(60);
    const refreshed = await server.postForm('/token', { grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: refreshing.clientId, client_secret: refreshing.clientSecret! });
    assert.equal(refreshed.status, 200);
    const second = decodeJwt(((await refreshed.json()) as { id_token: string }).id_token).payload;
    assert.equal(second['auth_time'], first['auth_time']);
    assert.deepEqual(second['amr'], ['pwd']);
  });

  test('SR-16 a session unused for users.sessionIdleTimeoutSeconds ends; one in use lasts until its absolute end', async () => {
    const browser = await signedIn(confidentialApp.clientId, REDIRECT);
    server.clock.advance(idle - 100);
    assert.equal((await browser.fetch(`${server.issuer}/account`)).status, 200);
    server.clock.advance(idle - 100);
    assert.equal((await browser.fetch(`${server.issuer}/account`)).status, 200, 'each use restarts the idle timeout');
    server.clock.advance(idle + 1);
    const idleOut = await browser.fetch(`${server.issuer}/account`);
    assert.equal(idleOut.status, 302, 'idle too long: signed out');
    assert.equal(location(idleOut).pathname, '/login');

    const busy = await signedIn(confidentialApp.clientId, REDIRECT);
    for (let used = 0; used < 3600 - 500; used += 500) {
      server.clock.advance(500);
      assert.equal((await busy.fetch(`${server.issuer}/account`)).status, 200);
    }
    server.clock.advance(500);
    assert.equal((await busy.fetch(`${server.issuer}/account`)).status, 302, 'the absolute lifetime still ends it');
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { rowCounts } from '../helpers/row-counts.ts';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser, inputValue, PASSWORD, pkce, redirectParams } from '../helpers/user-flow.ts';

/**
 * The browser pages' own defences, over real HTTP on both stores: reading a page writes nothing and CSRF needs no
 * stored session (SR-13), every active grant is on /account and revocable (SR-18), and a return_to the Location
 * header cannot carry never costs a login (SR-19).
 */
forEachStore('browser pages: no writes on GET, CSRF, grants on /account, return_to', (fixture) => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(fixture);
  });
  after(() => server.close());

  const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;
  async function signedIn(email: string, returnTo = '/account'): Promise<{ browser: Browser; response: Response }> {
    const browser = new Browser();
    const page = await (await browser.fetch(`${server.issuer}/login`)).text();
    const response = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), return_to: returnTo, email, password: PASSWORD });
    return { browser, response };
  }
  /** A GET of every route the server serves, path parameters filled in. */
  const everyGet = () =>
    server.app.routeTable
      .filter((route) => route.method === 'GET' || (Array.isArray(route.method) && route.method.includes('GET')))
      .map((route) => route.url.replace(/:([A-Za-z]+)/g, 'x'));

  test('SR-13 GET /login writes nothing; its form posts with a CSRF token bound to a cookie, not a stored session', async () => {
    const email = unique('csrf');
    await createUser(server, email);
    const before = await rowCounts(fixture);
    const browsers = Array.from({ length: 10 }, () => new Browser());
    const pages = await Promise.all(browsers.map(async (b) => (await b.fetch(`${server.issuer}/login?return_to=%2Faccount`)).text()));
    assert.deepEqual(await rowCounts(fixture), before, 'ten login pages, no row');
    assert.ok(browsers.every((b) => b.cookies.has('mandate_csrf') && !b.cookies.has('mandate_session')));
    const post = (browser: Browser, csrf: string) => browser.postForm(`${server.issuer}/login`, { csrf, return_to: '/account', email, password: PASSWORD });
    assert.equal((await post(browsers[0]!, inputValue(pages[1]!, 'csrf'))).status, 403, 'another browser’s token');
    assert.equal((await post(new Browser(), inputValue(pages[0]!, 'csrf'))).status, 403, 'a token without its cookie');
    const wrongPassword = await browsers[2]!.postForm(`${server.issuer}/login`, { csrf: inputValue(pages[2]!, 'csrf'), return_to: '/account', email, password: 'not it at all' });
    assert.equal(wrongPassword.status, 401);
    assert.equal(browsers[2]!.cookies.has('mandate_session'), false, 'a failed login starts no session either');
    assert.equal((await post(browsers[0]!, inputValue(pages[0]!, 'csrf'))).status, 303, 'its own token signs in');
  });

  test('SR-13 no GET route writes: every page, document and API read, anonymous and signed in, leaves every table as it was', async () => {
    const email = unique('reader');
    await createUser(server, email);
    const app = await createApp(server, { public: true, redirect_uris: ['http://127.0.0.1/callback'] });
    const { browser } = await signedIn(email);
    const authorize = `/authorize?${new URLSearchParams({ response_type: 'code', client_id: app.clientId, redirect_uri: 'http://127.0.0.1/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256', scope: 'openid' })}`;
    const paths = everyGet().filter((path) => !path.startsWith('/authorize') && !path.endsWith('/callback'));
    assert.ok(paths.length >= 10, paths.join(' '));
    const before = await rowCounts(fixture);
    for (const path of [...paths, `${authorize}&prompt=login`, `${authorize}&max_age=0`]) {
      for (const reader of [new Browser(), browser]) {
        const headers = path.startsWith('/admin/v1/') ? { authorization: `Bearer ${server.adminToken}` } : undefined;
        const response = await reader.fetch(`${server.issuer}${path}`, { headers });
        assert.ok(response.status < 500, `${path}: ${response.status}`);
      }
    }
    assert.equal((await new Browser().fetch(`${server.issuer}${authorize}`)).status, 302, 'anonymous: to the login page');
    assert.deepEqual(await rowCounts(fixture), before);
    assert.equal((await browser.fetch(`${server.issuer}/account`)).status, 200, 'prompt=login and max_age=0 on GET left the session');
  });

  test('SR-13 refused CSRF posts are counted in the audit trail: one row per address and minute, then one count', async () => {
    server.clock.advance(60);
    const before = (await server.store.listAuditRows({ event: 'csrf.refused', limit: 1000 })).length;
    for (let i = 0; i < 40; i++) {
      const response = await new Browser().postForm(`${server.issuer}/login`, { csrf: 'x'.repeat(43), email: 'a@example.com', password: 'p' });
      assert.equal(response.status, 403);
    }
    assert.equal((await server.store.listAuditRows({ event: 'csrf.refused', limit: 1000 })).length - before, 1);
    server.clock.advance(60);
    await new Browser().postForm(`${server.issuer}/logout`, {});
    const counts = await server.store.listAuditRows({ event: 'csrf.refused_count', limit: 10 });
    assert.ok(counts.some((row) => row.detail?.['count'] === 39), JSON.stringify(counts.map((row) => row.detail)));
  });

  test('SR-13 refused authorization requests, which anyone can send by GET, are counted: one row per client, address and minute', async () => {
    const app = await createApp(server, { public: true, redirect_uris: ['http://127.0.0.1/callback'] });
    const refused = (maxAge: string) =>
      new Browser().fetch(`${server.issuer}/authorize?${new URLSearchParams({ response_type: 'code', client_id: app.clientId, redirect_uri: 'http://127.0.0.1/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256', scope: 'openid', max_age: maxAge })}`);
    server.clock.advance(60);
    for (let i = 0; i < 30; i++) assert.equal(redirectParams(await refused(`x${i}`)).get('error'), 'invalid_request');
    const rows = async (event: string) => (await server.store.listAuditRows({ event, limit: 1000 })).filter((row) => row.clientId === app.clientId);
    assert.equal((await rows('authorization.refused')).length, 1);
    server.clock.advance(60);
    await refused('again');
    assert.deepEqual((await rows('authorization.refused_count')).map((row) => row.detail?.['count']), [29]);
  });

  test('SR-13 sessions a stranger can start (passkey, upstream login) are limited per address: 429 past the limit, no row', async () => {
    const limited = await startTestServer(fixture, { users: { anonymousSessionsPerIpPerMinute: 5 } });
    try {
      const start = async () => {
        const browser = new Browser();
        const csrf = inputValue(await (await browser.fetch(`${limited.issuer}/login`)).text(), 'csrf');
        return browser.fetch(`${limited.issuer}/login/passkey/options`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': csrf }, body: '{}' });
      };
      const before = (await rowCounts(fixture))['sessions']!;
      const statuses = [];
      for (let i = 0; i < 8; i++) statuses.push((await start()).status);
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
      assert.equal((await rowCounts(fixture))['sessions']! - before, 5);
      limited.clock.advance(60);
      assert.equal((await start()).status, 200, 'the limit refills');
    } finally {
      await limited.close();
    }
  });

  test('SR-18 /account lists every active grant, remembered or not, and each one is revocable there', async () => {
    const email = unique('grants');
    await createUser(server, email);
    await registerAgentAndResource(server, { name: 'Grant Viewer' });
    const app = await createApp(server, { name: 'One-time App', public: true, redirect_uris: ['http://127.0.0.1/callback'] });
    const browser = (await signedIn(email)).browser;
    const tokens = [];
    for (let i = 0; i < 2; i++) {
      const { verifier, challenge } = pkce();
      const params = { response_type: 'code', client_id: app.clientId, redirect_uri: 'http://127.0.0.1/callback', code_challenge: challenge, code_challenge_method: 'S256', scope: 'openid offline_access calc', resource: MCP_RESOURCE, state: 's' };
      const { response, consentPage } = await authorizeInBrowser(server, browser, params, { remember: false, email });
      assert.ok(consentPage, `${response.status} ${await response.clone().text()}`);
      const code = redirectParams(response).get('code')!;
      const issued = await server.postForm('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: 'http://127.0.0.1/callback', client_id: app.clientId });
      tokens.push(((await issued.json()) as { refresh_token: string }).refresh_token);
    }
    let page = await (await browser.fetch(`${server.issuer}/account`)).text();
    const grantIds = [...page.matchAll(/name="grant_id" value="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(grantIds.length, 2, 'both one-time grants are listed');
    assert.match(page, /One-time App/);
    const revoke = await browser.postForm(`${server.issuer}/account/grants/revoke`, { csrf: inputValue(page, 'csrf'), grant_id: grantIds[0]! });
    assert.equal(revoke.status, 303);
    page = await (await browser.fetch(`${server.issuer}${revoke.headers.get('location')}`)).text();
    assert.match(page, /Access revoked/);
    assert.deepEqual([...page.matchAll(/name="grant_id" value="([^"]+)"/g)].map((m) => m[1]), [grantIds[1]]);
    const refresh = (token: string) => server.postForm('/token', { grant_type: 'refresh_token', refresh_token: token, client_id: app.clientId });
    const refreshed = await Promise.all(tokens.map(async (t) => (await refresh(t!)).status));
    assert.equal(refreshed.filter((s) => s === 400).length, 1, 'the revoked grant’s refresh token is dead');
    assert.equal(refreshed.filter((s) => s === 200).length, 1, 'the other still works');
    const otherEmail = unique('other');
    await createUser(server, otherEmail);
    const other = (await signedIn(otherEmail)).browser;
    const otherPage = await (await other.fetch(`${server.issuer}/account`)).text();
    const foreign = await other.postForm(`${server.issuer}/account/grants/revoke`, { csrf: inputValue(otherPage, 'csrf'), grant_id: grantIds[1]! });
    assert.match(foreign.headers.get('location')!, /notice=gone/, 'nobody revokes another user’s grant');
  });

  test('SR-19 a return_to with characters above Latin-1 or a NUL: a correct login succeeds, to a safe place, and stays signed in', async () => {
    const email = unique('latin');
    await createUser(server, email);
    for (const [returnTo, expected] of [
      ['/authorize?client_id=\u0101\u4e2d\u{1F600}', '/authorize?client_id=%C4%81%E4%B8%AD%F0%9F%98%80'],
      ['/account\u0000', '/account'],
      ['/\u0101#\u00e9', '/%C4%81#%C3%A9'],
    ] as const) {
      const page = await (await new Browser().fetch(`${server.issuer}/login?${new URLSearchParams({ return_to: returnTo })}`)).text();
      assert.equal(inputValue(page, 'return_to'), expected, 'the page carries the repaired value');
      const { browser, response } = await signedIn(email, returnTo);
      assert.equal(response.status, 303, JSON.stringify(returnTo));
      assert.equal(response.headers.get('location'), expected);
      assert.equal((await browser.fetch(`${server.issuer}/account`)).status, 200, 'signed in');
    }
  });
});

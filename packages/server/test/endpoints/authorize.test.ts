import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser, createApp, createUser, inputValue, pkce, redirectParams } from '../helpers/user-flow.ts';

const REDIRECT = 'https://app.example.com/callback';

forEachStore('authorization endpoint and consent', (fixture) => {
  let server: TestServer;
  let app: { clientId: string };
  let agent: { clientId: string };
  const { challenge } = pkce();
  const base = () => ({ response_type: 'code', client_id: app.clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256', state: 'xyz' });

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server, { name: 'Research Assistant', owner: 'owner@example.com', scopes: ['calc', 'files:read', 'exec'] });
    // The consent page is the point here: `exec` (high risk, an approver's by default) is left to the user's consent
    // (authorize-approval.test.ts covers the wait for an approver).
    assert.equal((await server.admin('PUT', `/resources/${encodeURIComponent(MCP_RESOURCE)}/policies/exec`, { policy: 'user_consent' })).status, 200);
    await createUser(server, 'ada@example.com');
    app = await createApp(server, { redirect_uris: [REDIRECT, 'http://127.0.0.1/callback'] });
  });
  after(() => server.close());

  const authorize = (params: Record<string, string>, browser = new Browser()) => browser.fetch(`${server.issuer}/authorize?${new URLSearchParams(params)}`);

  test('BCP-01 a redirect_uri that matches no registered one → 400 page, never a redirect', async () => {
    for (const redirect of ['https://app.example.com/callback/other', 'https://evil.example/callback', 'https://app.example.com/callback?x=1']) {
      const response = await authorize({ ...base(), redirect_uri: redirect });
      assert.equal(response.status, 400, redirect);
      assert.equal(response.headers.get('location'), null);
      assert.match(await response.text(), /redirect_uri does not match/);
    }
  });

  test('OIDC Core §3.1.2.1 a form POST to /authorize becomes the equivalent GET', async () => {
    const response = await fetch(`${server.issuer}/authorize`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...base(), scope: 'openid' }), redirect: 'manual' });
    assert.equal(response.status, 303);
    const location = new URL(response.headers.get('location')!, server.issuer);
    assert.equal(location.pathname, '/authorize');
    assert.equal(location.searchParams.get('client_id'), app.clientId);
  });

  test('unknown client_id → 400 page, never a redirect', async () => {
    const response = await authorize({ ...base(), client_id: 'app_nobody' });
    assert.equal(response.status, 400);
    assert.equal(response.headers.get('location'), null);
  });

  test('BCP-01 RFC 8252 §7.3: a loopback redirect URI may use any port', async () => {
    const response = await authorize({ ...base(), scope: 'openid', redirect_uri: 'http://127.0.0.1:53124/callback' });
    assert.equal(response.status, 302);
    assert.match(response.headers.get('location')!, /\/login\?return_to=/, 'accepted: the user is sent to log in');
    const other = await authorize({ ...base(), scope: 'openid', redirect_uri: 'http://127.0.0.1:53124/other' });
    assert.equal(other.status, 400, 'only the port may differ');
  });

  test('BCP-02 missing code_challenge → invalid_request redirected with state and iss (ISS-01)', async () => {
    const { code_challenge: _, ...params } = base();
    const response = await authorize(params);
    assert.equal(response.status, 302);
    const back = redirectParams(response);
    assert.equal(back.get('error'), 'invalid_request');
    assert.equal(back.get('state'), 'xyz');
    assert.equal(back.get('iss'), server.issuer);
  });

  test('BCP-02 code_challenge_method=plain, or missing (plain by default) → invalid_request', async () => {
    for (const method of ['plain', undefined]) {
      const params: Record<string, string> = { ...base() };
      if (method) params['code_challenge_method'] = method;
      else delete params['code_challenge_method'];
      const back = redirectParams(await authorize(params));
      assert.equal(back.get('error'), 'invalid_request', String(method));
      assert.match(back.get('error_description')!, /S256/);
    }
  });

  test('BCP-06 response_type=token (implicit) → unsupported_response_type', async () => {
    const back = redirectParams(await authorize({ ...base(), response_type: 'token' }));
    assert.equal(back.get('error'), 'unsupported_response_type');
    assert.equal(back.get('iss'), server.issuer);
  });

  test('OBO-01 unknown or non-agent requested_actor → invalid_request', async () => {
    for (const actor of ['agt_nobody', app.clientId]) {
      const back = redirectParams(await authorize({ ...base(), scope: 'calc', resource: MCP_RESOURCE, requested_actor: actor }));
      assert.equal(back.get('error'), 'invalid_request', actor);
    }
  });

  test('RI-01 unknown resource or one with a fragment → invalid_target', async () => {
    for (const resource of ['https://unknown.example.com/api', `${MCP_RESOURCE}#frag`]) {
      const back = redirectParams(await authorize({ ...base(), scope: 'calc', resource }));
      assert.equal(back.get('error'), 'invalid_target', resource);
    }
  });

  test('a scope the client or the named agent may not hold → invalid_scope', async () => {
    const back = redirectParams(await authorize({ ...base(), scope: 'files:write', resource: MCP_RESOURCE }));
    assert.equal(back.get('error'), 'invalid_scope');
  });

  test('an unauthenticated user is sent to the login page, which comes back to the request', async () => {
    const browser = new Browser();
    const response = await authorize({ ...base(), scope: 'openid' }, browser);
    assert.equal(response.status, 302);
    const login = new URL(response.headers.get('location')!, server.issuer);
    assert.equal(login.pathname, '/login');
    assert.match(login.searchParams.get('return_to')!, /^\/authorize\?/);
    const page = await browser.fetch(login.href);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'.*frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.match(page.headers.get('set-cookie')!, /^mandate_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/, 'SR-13 a CSRF cookie, no session');
  });

  test('the consent page names the client, the agent (name, owner, id) and each scope with its risk', async () => {
    const { consentPage, response } = await authorizeInBrowser(server, new Browser(), { ...base(), scope: 'openid calc exec', resource: MCP_RESOURCE, requested_actor: agent.clientId });
    assert.ok(consentPage);
    assert.match(consentPage, /Demo App/);
    assert.match(consentPage, /Research Assistant/);
    assert.match(consentPage, /owner@example\.com/);
    assert.ok(consentPage.includes(agent.clientId));
    assert.match(consentPage, /<li class="risk-high"><strong>exec<\/strong><span class="badge">High risk/);
    assert.match(consentPage, /high-risk permissions/);
    assert.equal(response.status, 303);
    const back = redirectParams(response);
    assert.ok(back.get('code'));
    assert.equal(back.get('state'), 'xyz');
    assert.equal(back.get('iss'), server.issuer, 'ISS-01 iss on success');
  });

  test('BCP-08 consent POST without a CSRF token, or with another session’s → 403, no code, audited', async () => {
    const browser = new Browser();
    const { consentPage } = await authorizeInBrowser(server, browser, { ...base(), scope: 'openid files:read', resource: MCP_RESOURCE }, { decision: 'approve' });
    assert.ok(consentPage);
    // A fresh request that reaches the consent page, then posts without the token.
    const again = await browser.fetch(`${server.issuer}/authorize?${new URLSearchParams({ ...base(), scope: 'openid files:read exec', resource: MCP_RESOURCE, prompt: 'consent' })}`);
    const page = await again.text();
    const request = inputValue(page, 'request');
    const missing = await browser.postForm(`${server.issuer}/authorize/consent`, { request, decision: 'approve' });
    assert.equal(missing.status, 403);
    assert.equal(missing.headers.get('location'), null);
    const other = new Browser();
    const otherPage = await (await other.fetch(`${server.issuer}/login`)).text();
    const forged = await browser.postForm(`${server.issuer}/authorize/consent`, { request, decision: 'approve', csrf: inputValue(otherPage, 'csrf') });
    assert.equal(forged.status, 403);
    const audit = (await (await server.admin('GET', '/audit?event=csrf.refused')).json()) as { events: unknown[] };
    assert.ok(audit.events.length >= 1, 'the first refusal of an address in a minute has its row (SR-13: the rest are counted)');
  });

  test('deny → access_denied with state and iss; audited as consent.denied', async () => {
    const { response } = await authorizeInBrowser(server, new Browser(), { ...base(), scope: 'openid', state: 'deny-state', prompt: 'consent' }, { decision: 'deny' });
    assert.equal(response.status, 303, 'BCP-10 303 after the consent POST');
    const back = redirectParams(response);
    assert.equal(back.get('error'), 'access_denied');
    assert.equal(back.get('state'), 'deny-state');
    assert.equal(back.get('iss'), server.issuer);
    const audit = (await (await server.admin('GET', '/audit?event=consent.denied')).json()) as { events: unknown[] };
    assert.equal(audit.events.length, 1);
  });

  /** Signs a new browser in (through one approved authorization) and opens a consent page; returns its form fields. */
  async function openConsentPage(email: string, params: Record<string, string>) {
    const browser = new Browser();
    await authorizeInBrowser(server, browser, { ...params, prompt: 'consent' }, { email, remember: false });
    const page = await (await browser.fetch(`${server.issuer}/authorize?${new URLSearchParams({ ...params, prompt: 'consent' })}`)).text();
    return { browser, page, csrf: inputValue(page, 'csrf'), request: inputValue(page, 'request') };
  }

  test('the consent page carries only the id of the request the server keeps; answering it is single use', async () => {
    const { browser, page, csrf, request } = await openConsentPage('ada@example.com', { ...base(), scope: 'openid calc', resource: MCP_RESOURCE, state: 'once' });
    assert.match(request, /^[A-Za-z0-9_-]{43}$/);
    assert.doesNotMatch(page, /code_challenge|redirect_uri|response_type/, 'no part of the authorization request is in the page');
    const first = await browser.postForm(`${server.issuer}/authorize/consent`, { csrf, request, decision: 'approve' });
    assert.equal(first.status, 303);
    assert.ok(redirectParams(first).get('code'));
    assert.equal(redirectParams(first).get('state'), 'once', 'state comes from the server-side request');
    const replay = await browser.postForm(`${server.issuer}/authorize/consent`, { csrf, request, decision: 'approve' });
    assert.equal(replay.status, 400);
    assert.equal(replay.headers.get('location'), null, 'no second code, no redirect');
    const forged = await browser.postForm(`${server.issuer}/authorize/consent`, { csrf, request: 'x'.repeat(43), decision: 'approve' });
    assert.equal(forged.status, 400);
  });

  test('a consent request opened in one browser session cannot be answered from another', async () => {
    await createUser(server, 'mallory@example.com');
    const params = { ...base(), scope: 'openid calc', resource: MCP_RESOURCE, state: 'bound' };
    const victim = await openConsentPage('ada@example.com', params);
    const other = await openConsentPage('mallory@example.com', params);
    const stolen = await other.browser.postForm(`${server.issuer}/authorize/consent`, { csrf: other.csrf, request: victim.request, decision: 'approve' });
    assert.equal(stolen.status, 400);
    assert.equal(stolen.headers.get('location'), null);
    const own = await victim.browser.postForm(`${server.issuer}/authorize/consent`, { csrf: victim.csrf, request: victim.request, decision: 'approve' });
    assert.equal(own.status, 303, 'the attempt from the other session did not spend it');
    assert.ok(redirectParams(own).get('code'));
  });

  test('a consent request expires after ten minutes; a client disabled meanwhile gets no code', async () => {
    const late = await openConsentPage('ada@example.com', { ...base(), scope: 'openid', state: 'late' });
    server.clock.advance(601);
    const expired = await late.browser.postForm(`${server.issuer}/authorize/consent`, { csrf: late.csrf, request: late.request, decision: 'approve' });
    assert.equal(expired.status, 400);
    assert.equal(expired.headers.get('location'), null);

    const other = await createApp(server, { name: 'Soon Disabled', redirect_uris: [REDIRECT] });
    const open = await openConsentPage('ada@example.com', { ...base(), client_id: other.clientId, scope: 'openid', state: 'disabled' });
    assert.equal((await server.admin('POST', `/clients/${other.clientId}/disable`)).status, 200);
    const refused = await open.browser.postForm(`${server.issuer}/authorize/consent`, { csrf: open.csrf, request: open.request, decision: 'approve' });
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get('location'), null, 'never redirected to a disabled client');
  });

  test('remembered consent skips the page; prompt=consent asks again; prompt=none needs login and consent', async () => {
    const browser = new Browser();
    const params = { ...base(), scope: 'openid calc', resource: MCP_RESOURCE, requested_actor: agent.clientId };
    const first = await authorizeInBrowser(server, browser, params);
    assert.ok(redirectParams(first.response).get('code'));
    const second = await browser.fetch(`${server.issuer}/authorize?${new URLSearchParams(params)}`);
    assert.equal(second.status, 302);
    assert.ok(redirectParams(second).get('code'), 'no consent page the second time');
    const forced = await browser.fetch(`${server.issuer}/authorize?${new URLSearchParams({ ...params, prompt: 'consent' })}`);
    assert.equal(forced.status, 200);
    const wider = await browser.fetch(`${server.issuer}/authorize?${new URLSearchParams({ ...params, scope: 'openid calc files:read', prompt: 'none' })}`);
    assert.equal(redirectParams(wider).get('error'), 'consent_required', 'a wider request is not covered');
    const otherAgent = await browser.fetch(`${server.issuer}/authorize?${new URLSearchParams({ ...params, requested_actor: undefined as never })}`.replace('&requested_actor=undefined', ''));
    assert.equal(otherAgent.status, 200, 'consent for an agent does not cover the client alone');
    const anonymous = await authorize({ ...params, prompt: 'none' });
    assert.equal(redirectParams(anonymous).get('error'), 'login_required');
  });

  test('wrong password → 401 page; repeated failures lock the account with backoff (429, Retry-After), audited', async () => {
    await createUser(server, 'locked@example.com');
    const browser = new Browser();
    const page = await (await browser.fetch(`${server.issuer}/login`)).text();
    const csrf = inputValue(page, 'csrf');
    const attempt = (password: string) => browser.postForm(`${server.issuer}/login`, { csrf, email: 'locked@example.com', password, return_to: '/account' });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await attempt('wrong password!')).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    const locked = await attempt('correct horse battery staple');
    assert.equal(locked.status, 429, 'even the right password waits out the lock');
    assert.ok(Number(locked.headers.get('retry-after')) >= 1);
    server.clock.advance(3600);
    const fresh = inputValue(await (await browser.fetch(`${server.issuer}/login`)).text(), 'csrf');
    const later = await browser.postForm(`${server.issuer}/login`, { csrf: fresh, email: 'locked@example.com', password: 'correct horse battery staple', return_to: '/account' });
    assert.equal(later.status, 303, 'the lock ends');
    const failed = (await (await server.admin('GET', '/audit?event=login.failed')).json()) as { events: { detail: Record<string, unknown> }[] };
    assert.ok(failed.events.length >= 1, 'failures are audited (past the first of an address in a minute, counted: SR-06)');
    assert.ok(failed.events.every((e) => !JSON.stringify(e).includes('wrong password!')), 'no password in the audit trail');
    assert.equal(((await (await server.admin('GET', '/audit?event=login.throttled')).json()) as { events: unknown[] }).events.length, 1, 'two refusals in one minute: one row, one counted');
  });

  test('unknown email → the same 401 as a wrong password', async () => {
    const browser = new Browser();
    const page = await (await browser.fetch(`${server.issuer}/login`)).text();
    const response = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), email: 'nobody@example.com', password: 'whatever123' });
    assert.equal(response.status, 401);
    assert.match(await response.text(), /The email or password is not correct/);
  });

  test('return_to cannot leave the server (no open redirect)', async () => {
    const browser = new Browser();
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const page = await (await browser.fetch(`${server.issuer}/login`)).text();
      const response = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), email: 'ada@example.com', password: 'correct horse battery staple', return_to: returnTo });
      assert.equal(response.status, 303);
      assert.equal(response.headers.get('location'), '/account', returnTo);
      await browser.postForm(`${server.issuer}/logout`, { csrf: inputValue(await (await browser.fetch(`${server.issuer}/account`)).text(), 'csrf') });
    }
  });

  test('login replaces the session id (no fixation); logout ends it', async () => {
    const browser = new Browser();
    const page = await (await browser.fetch(`${server.issuer}/login`)).text();
    const anonymous = browser.cookies.get('mandate_session');
    await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), email: 'ada@example.com', password: 'correct horse battery staple', return_to: '/account' });
    const signedIn = browser.cookies.get('mandate_session');
    assert.notEqual(signedIn, anonymous);
    const account = await browser.fetch(`${server.issuer}/account`);
    assert.equal(account.status, 200);
    const logout = await browser.postForm(`${server.issuer}/logout`, { csrf: inputValue(await account.text(), 'csrf') });
    assert.equal(logout.status, 303);
    const stolen = new Browser();
    stolen.cookies.set('mandate_session', signedIn!);
    assert.equal((await stolen.fetch(`${server.issuer}/account`)).status, 302, 'the old session id is dead');
  });
});

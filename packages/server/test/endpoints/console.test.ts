import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { Browser, createApp, createUser, fetchPage, inputValue, PASSWORD, signedInBrowser } from '../helpers/user-flow.ts';

/**
 * The admin console and self-service over real HTTP (the browser suite drives the same pages in Chromium): deny by
 * default, the page headers, CSRF on every form, the role of each route, one validation shared with the admin API,
 * the live approval stream, the user's own decisions where the policy lets them, and self-signup (off by default).
 */
forEachStore('admin console over HTTP', (fixture) => {
  let server: TestServer;
  let n = 0;
  const unique = (name: string) => `${name}-${++n}@example.com`;

  before(async () => {
    server = await startTestServer(fixture);
  });
  after(() => server.close());

  const signedIn = (email: string) => signedInBrowser(server, email);
  const page = (browser: Browser, path: string) => fetchPage(server, browser, path);

  test('deny by default: anonymous → the login page; a user with no role → 403 with a clear page; CSP, frame-ancestors, no inline script', async () => {
    const anonymous = await new Browser().fetch(`${server.issuer}/admin/agents`);
    assert.equal(anonymous.status, 302);
    assert.equal(anonymous.headers.get('location'), `/login?${new URLSearchParams({ return_to: '/admin/agents' })}`);

    const email = unique('plain');
    await createUser(server, email);
    const plain = await signedIn(email);
    for (const path of ['/admin', '/admin/approvals', '/admin/agents', '/admin/audit', '/admin/approvals/events']) {
      const { status, body } = await page(plain, path);
      assert.equal(status, 403, path);
      assert.match(body, /no console role/);
    }

    const admin = unique('admin');
    await createUser(server, admin, { is_admin: true });
    const slash = await new Browser().fetch(`${server.issuer}/admin/`);
    assert.deepEqual([slash.status, slash.headers.get('location')], [301, '/admin'], '/admin/ is sent to /admin, not a 404');
    const { status, body, headers } = await page(await signedIn(admin), '/admin');
    assert.equal(status, 200);
    assert.match(headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.doesNotMatch(headers.get('content-security-policy') ?? '', /unsafe-inline/);
    assert.equal(headers.get('x-frame-options'), 'DENY');
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.doesNotMatch(body, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
    assert.match(body, /<nav class="side" aria-label="Console">/);
    assert.match(body, /<main id="main"/);
  });

  test('CSRF on every console form; an agent created with its secret shown once, through the same validation as the admin API', async () => {
    const email = unique('admin');
    await createUser(server, email, { is_admin: true });
    const admin = await signedIn(email);
    const agents = await page(admin, '/admin/agents');
    const csrf = inputValue(agents.body, 'csrf');
    const before = ((await (await server.admin('GET', '/agents')).json()) as { agents: unknown[] }).agents.length;

    const forged = await admin.postForm(`${server.issuer}/admin/agents`, { name: 'Forged' });
    assert.equal(forged.status, 403, 'no CSRF token');
    assert.equal((await admin.postForm(`${server.issuer}/admin/agents`, { name: 'Forged', csrf: 'x'.repeat(43) })).status, 403, 'a wrong one');
    // The anonymous pages' token (bound to the CSRF cookie, which whoever can plant a cookie can choose) is not the
    // session's: a signed-in form refuses it, and so does /account.
    const anonymous = inputValue(await (await admin.fetch(`${server.issuer}/login`)).text(), 'csrf');
    assert.notEqual(anonymous, csrf);
    assert.equal((await admin.postForm(`${server.issuer}/admin/agents`, { name: 'Forged', csrf: anonymous })).status, 403, 'the anonymous cookie’s token');
    assert.equal((await admin.postForm(`${server.issuer}/account/grants/revoke`, { grant_id: 'grt_x', csrf: anonymous })).status, 403, 'the anonymous cookie’s token on /account');
    assert.equal((await admin.postForm(`${server.issuer}/logout`, { csrf: anonymous })).status, 403, 'nor logout');

    const refused = await admin.postForm(`${server.issuer}/admin/agents`, { csrf, name: '', scopes: 'calc' });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /role="alert">name: /);
    const unknownAudience = await admin.postForm(`${server.issuer}/admin/agents`, { csrf, name: 'Lost', audiences: 'https://nowhere.example.com/mcp' });
    assert.equal(unknownAudience.status, 400);
    assert.equal(((await (await server.admin('GET', '/agents')).json()) as { agents: unknown[] }).agents.length, before, 'nothing written');

    const created = await admin.postForm(`${server.issuer}/admin/agents`, { csrf, name: 'Console Agent', scopes: 'calc', token_endpoint_auth_method: 'client_secret_basic' });
    assert.equal(created.status, 200);
    const body = await created.text();
    const secret = /id="secret-value">([^<]+)</.exec(body)![1]!;
    const clientId = /Client id <code>(agt_[^<]+)</.exec(body)![1]!;
    const token = await server.postForm('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(clientId, secret) });
    assert.notEqual(token.status, 401, 'the secret shown is the agent’s');
    assert.doesNotMatch((await page(admin, '/admin/agents')).body, new RegExp(secret), 'shown once');

    const app = await admin.postForm(`${server.issuer}/admin/clients`, { csrf, name: 'Bad', redirect_uris: 'https://app.example.com/cb#frag', client_type: 'public' });
    assert.equal(app.status, 400);
    const apiAnswer = await server.admin('POST', '/clients', { name: 'Bad', redirect_uris: ['https://app.example.com/cb#frag'], public: true });
    const apiProblem = (await apiAnswer.json()) as { detail: string };
    assert.ok((await app.text()).includes(apiProblem.detail.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')), 'the console says what the admin API says');
  });

  test('an agent edited in the console takes the admin API’s PATCH fields; a client’s secret rotates, shown once, the old one kept for its grace', async () => {
    const email = unique('admin');
    await createUser(server, email, { is_admin: true });
    const admin = await signedIn(email);
    const agent = await registerAgentAndResource(server, { name: 'Editable', scopes: ['calc'] });
    const form = await page(admin, `/admin/agents/${agent.clientId}`);
    assert.equal(form.status, 200);
    assert.match(form.body, /name="name" type="text" value="Editable"/);
    const csrf = inputValue(form.body, 'csrf');
    const edit = (fields: Record<string, string>) =>
      admin.postForm(`${server.issuer}/admin/agents/${agent.clientId}`, { csrf, name: 'Renamed', scopes: 'calc files:read', audiences: MCP_RESOURCE, backchannel_token_delivery_mode: 'poll', ...fields });
    const refused = await edit({ access_token_ttl_seconds: '30' });
    assert.equal(refused.status, 400);
    const refusedBody = await refused.text();
    assert.match(refusedBody, /role="alert">access_token_ttl_seconds: /);
    assert.match(refusedBody, /name="name" type="text" value="Renamed"/, 'the typed values are kept');
    const saved = await edit({ access_token_ttl_seconds: '120', dpop_bound_access_tokens: 'yes', description: 'does sums' });
    assert.equal(saved.status, 303);
    assert.equal(saved.headers.get('location'), `/admin/agents/${agent.clientId}?notice=updated`);
    const view = (await (await server.admin('GET', `/agents/${agent.clientId}`)).json()) as Record<string, unknown>;
    assert.deepEqual([view['name'], view['scopes'], view['access_token_ttl_seconds'], view['dpop_bound_access_tokens'], view['txn_tokens'], view['description']], ['Renamed', ['calc', 'files:read'], 120, true, false, 'does sums']);
    const audit = (await (await server.admin('GET', `/audit?event=agent.updated&principal=${agent.clientId}`)).json()) as { events: { actor: string }[] };
    assert.equal(audit.events.length, 1, 'audited once, as the admin API’s edit is');

    const { clientId, clientSecret } = await createApp(server);
    const revokeWith = (secret: string) => server.postForm('/revoke', { token: 'not-a-token' }, { authorization: basicAuth(clientId, secret) });
    const clientPage = await page(admin, `/admin/clients/${clientId}`);
    assert.match(clientPage.body, /Rotate secret/);
    const rotated = await admin.postForm(`${server.issuer}/admin/clients/${clientId}/rotate-secret`, { csrf });
    assert.equal(rotated.status, 200);
    const secret = /id="secret-value">([^<]+)</.exec(await rotated.text())![1]!;
    assert.equal((await revokeWith(secret)).status, 200, 'the new secret authenticates');
    assert.equal((await revokeWith(clientSecret!)).status, 200, 'the old one, within its grace period');
    assert.equal((await revokeWith('x'.repeat(43))).status, 401);
    assert.doesNotMatch((await page(admin, `/admin/clients/${clientId}`)).body, new RegExp(secret), 'shown once');
    const audited = (await (await server.admin('GET', `/audit?event=client.secret_rotated&principal=${clientId}`)).json()) as { events: { actor: string }[] };
    assert.equal(audited.events.length, 1);
    const apiRotated = (await (await server.admin('POST', `/clients/${clientId}/rotate-secret`, { grace_seconds: 0 })).json()) as { client_secret: string };
    assert.equal((await revokeWith(apiRotated.client_secret)).status, 200, 'the admin API rotates too');
    assert.equal((await revokeWith(secret)).status, 401, 'grace 0 ends the previous secret at once');

    const publicApp = await createApp(server, { public: true });
    assert.doesNotMatch((await page(admin, `/admin/clients/${publicApp.clientId}`)).body, /Rotate secret/);
    const noSecret = await admin.postForm(`${server.issuer}/admin/clients/${publicApp.clientId}/rotate-secret`, { csrf });
    assert.equal(noSecret.status, 400);
    assert.match(await noSecret.text(), /authenticates with none and has no secret/);
  });

  test('roles: a viewer reads and changes nothing; an approver decides approvals only; an admin may not remove their own admin role', async () => {
    const viewerEmail = unique('viewer');
    await createUser(server, viewerEmail, { roles: ['viewer'] });
    const viewer = await signedIn(viewerEmail);
    const agents = await page(viewer, '/admin/agents');
    assert.equal(agents.status, 200);
    assert.doesNotMatch(agents.body, /Create agent/);
    const csrf = inputValue(agents.body, 'csrf');
    for (const path of ['/admin/agents', '/admin/users', '/admin/keys/rotate', '/admin/approvals/apr_x/decision']) {
      assert.equal((await viewer.postForm(`${server.issuer}${path}`, { csrf, name: 'x' })).status, 403, path);
    }

    const approverEmail = unique('approver');
    await createUser(server, approverEmail, { roles: ['approver'] });
    const approver = await signedIn(approverEmail);
    const home = await approver.fetch(`${server.issuer}/admin`);
    assert.equal(home.status, 303);
    assert.equal(home.headers.get('location'), '/admin/approvals');
    assert.equal((await page(approver, '/admin/agents')).status, 403);
    const approverCsrf = inputValue((await page(approver, '/admin/approvals')).body, 'csrf');
    assert.equal((await approver.postForm(`${server.issuer}/admin/users`, { csrf: approverCsrf, email: 'x@example.com' })).status, 403);

    const adminEmail = unique('admin');
    const adminId = await createUser(server, adminEmail, { is_admin: true });
    const admin = await signedIn(adminEmail);
    const adminCsrf = inputValue((await page(admin, '/admin/users')).body, 'csrf');
    const selfDemotion = await admin.postForm(`${server.issuer}/admin/users/${adminId}/roles`, { csrf: adminCsrf, roles: '' });
    assert.equal(selfDemotion.status, 403);
    assert.equal(((await (await server.admin('GET', `/users/${adminId}`)).json()) as { is_admin: boolean }).is_admin, true);
  });

  test('issue 12 item 5: /admin/approvals/events streams the pending queue to the console (Server-Sent Events)', async () => {
    const email = unique('admin');
    await createUser(server, email, { is_admin: true });
    const admin = await signedIn(email);
    const uri = `https://stream-${n}.example.com/mcp`;
    const agent = await registerAgentAndResource(server, { scopes: ['calc'], audiences: [uri] }, uri);
    const user = unique('user');
    await createUser(server, user);
    const asked = await server.postForm('/bc-authorize', { scope: 'openid calc', resource: uri, login_hint: user, binding_message: 'streamed' }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(asked.status, 200);

    const controller = new AbortController();
    const response = await admin.fetch(`${server.issuer}/admin/approvals/events`, { signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('event: pending')) text += new TextDecoder().decode((await reader.read()).value);
    while (!/event: pending\ndata: .*\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    const data = JSON.parse(/event: pending\ndata: (.*)\n/.exec(text)![1]!) as { rows: { id: string; html: string }[] };
    const row = data.rows.find((r) => r.html.includes('streamed'));
    assert.ok(row, 'the pending request is in the stream');
    assert.match(row.html, /name="decision" value="approve"/);
    controller.abort();
  });

  test('issue 12 item 8: a user decides a request about them only where the policy lets them; never another user’s', async () => {
    const uri = `https://own-${++n}.example.com/mcp`;
    const agent = await registerAgentAndResource(server, { scopes: ['calc', 'deploy'], audiences: [uri] }, uri);
    const resources = (await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] };
    const id = resources.resources.find((r) => r.resource === uri)!.id;
    await server.admin('PATCH', `/resources/${id}`, { scopes: ['calc', { name: 'deploy', risk: 'critical' }] });
    const email = unique('owner');
    await createUser(server, email);
    const other = unique('other');
    await createUser(server, other);
    const ask = (scope: string, who: string, binding: string) =>
      server.postForm('/bc-authorize', { scope: `openid ${scope}`, resource: uri, login_hint: who, binding_message: binding }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    await ask('deploy', email, 'deploy-it');
    await ask('calc', other, 'not-yours');
    const all = (await (await server.admin('GET', '/approvals?status=pending')).json()) as { approvals: { id: string; justification: string }[] };
    const deploy = all.approvals.find((a) => a.justification === 'deploy-it')!.id;
    const notYours = all.approvals.find((a) => a.justification === 'not-yours')!.id;

    const browser = await signedIn(email);
    const account = await page(browser, '/account');
    assert.match(account.body, /Waiting for an approver: scope deploy needs an approver \(policy admin_approval/);
    const csrf = inputValue(account.body, 'csrf');
    const refused = await browser.postForm(`${server.issuer}/account/approvals/${deploy}/decision`, { csrf, decision: 'approve' });
    assert.equal(refused.status, 403);
    const foreign = await browser.postForm(`${server.issuer}/account/approvals/${notYours}/decision`, { csrf, decision: 'deny' });
    assert.equal(foreign.status, 404);
    // What cannot be checked stays with approvers: once the resource no longer defines `deploy`, the user still cannot decide it.
    assert.equal((await server.admin('PATCH', `/resources/${id}`, { scopes: ['calc'] })).status, 200);
    const undefinedScope = await browser.postForm(`${server.issuer}/account/approvals/${deploy}/decision`, { csrf, decision: 'approve' });
    assert.equal(undefinedScope.status, 403);
    assert.match(await undefinedScope.text(), /scope deploy is defined by none of the request&#39;s resources/);
    const states = (await (await server.admin('GET', '/approvals?status=pending')).json()) as { approvals: { id: string }[] };
    assert.ok([deploy, notYours].every((a) => states.approvals.some((s) => s.id === a)), 'both still pending');
  });
});

forEachStore('self-signup', (fixture) => {
  test('off by default: no /signup, no link on the login page', async () => {
    const server = await startTestServer(fixture);
    try {
      assert.equal((await fetch(`${server.issuer}/signup`)).status, 404);
      assert.doesNotMatch(await (await fetch(`${server.issuer}/login`)).text(), /Create an account/);
    } finally {
      await server.close();
    }
  });

  test('users.selfSignup: a person creates an account, then signs in, has no role; a taken email answers the same as a free one and changes nothing', async () => {
    const server = await startTestServer(fixture, { users: { selfSignup: true } });
    try {
      const browser = new Browser();
      assert.match(await (await browser.fetch(`${server.issuer}/login`)).text(), /href="\/signup">Create an account/);
      const form = await (await browser.fetch(`${server.issuer}/signup`)).text();
      const short = await browser.postForm(`${server.issuer}/signup`, { csrf: inputValue(form, 'csrf'), email: 'new@example.com', password: 'short' });
      assert.equal(short.status, 400);
      assert.match(await short.text(), /password: must be at least 8 characters/);
      const created = await browser.postForm(`${server.issuer}/signup`, { csrf: inputValue(form, 'csrf'), email: 'New@Example.com', name: 'Newcomer', password: PASSWORD });
      assert.equal(created.status, 303);
      assert.equal(created.headers.get('location'), `/login?${new URLSearchParams({ notice: 'signed-up', return_to: '/account' })}`);
      assert.equal(created.headers.get('set-cookie'), null, 'nobody is signed in by the form');
      const login = await (await browser.fetch(`${server.issuer}${created.headers.get('location')}`)).text();
      assert.match(login, /role="status">Sign-up received\./);
      const signedIn = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(login, 'csrf'), return_to: '/account', email: 'new@example.com', password: PASSWORD });
      assert.equal(signedIn.status, 303);
      assert.match(await (await browser.fetch(`${server.issuer}/account`)).text(), /new@example\.com/);
      assert.equal((await browser.fetch(`${server.issuer}/admin`)).status, 403, 'no console role');
      const user = (await (await server.admin('GET', '/users/new@example.com')).json()) as { roles: string[]; is_admin: boolean; email_verified: boolean };
      assert.deepEqual([user.roles, user.is_admin, user.email_verified], [[], false, false]);
      const again = await new Browser().postForm(`${server.issuer}/signup`, { csrf: 'x', email: 'new@example.com', password: PASSWORD });
      assert.equal(again.status, 403, 'CSRF first');

      // A stranger probing addresses: a taken one and a free one get the same status, location, cookies and body.
      const answer = async (email: string) => {
        const stranger = new Browser();
        const page = await (await stranger.fetch(`${server.issuer}/signup`)).text();
        const response = await stranger.postForm(`${server.issuer}/signup`, { csrf: inputValue(page, 'csrf'), email, password: 'another password' });
        return { status: response.status, location: response.headers.get('location'), cookie: response.headers.get('set-cookie'), body: await response.text() };
      };
      assert.deepEqual(await answer('new@example.com'), await answer('free@example.com'));
      // The taken address's account is unchanged: its own password still signs in, the stranger's does not.
      const probe = new Browser();
      const loginPage = await (await probe.fetch(`${server.issuer}/login`)).text();
      const wrong = await probe.postForm(`${server.issuer}/login`, { csrf: inputValue(loginPage, 'csrf'), return_to: '/account', email: 'new@example.com', password: 'another password' });
      assert.equal(wrong.status, 401);
      const users = (await (await server.admin('GET', '/users')).json()) as { users: { email: string }[] };
      assert.equal(users.users.filter((u) => u.email === 'new@example.com').length, 1);
    } finally {
      await server.close();
    }
  });
});

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { basicAuth, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { createApp, createUser, PASSWORD } from '../helpers/user-flow.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../../../test-results/console/', import.meta.url));
const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install -y chromium)';
const CIBA = 'urn:openid:params:grant-type:ciba';
const RESOURCE = 'https://tools.example.com/mcp';

/**
 * The admin console and the self-service page in a real browser (Debian Chromium via playwright-core), on both
 * stores: an admin approves a CIBA request that appeared live (Server-Sent Events) and the agent's poll gets its
 * token; a denial reaches the agent as access_denied; a critical request needs a fresh sign-in; a viewer sees no
 * decision button and is refused one; an approver cannot change a policy and a forged approver field is ignored; a
 * user revokes an agent on /account and its next call fails. Every console page is screenshotted to
 * test-results/console/ (gitignored) for a person to look at.
 */
forEachStore('browser: admin console and self-service', (fixture) => {
  let server: TestServer;
  let browser: Browser;
  let agent: { clientId: string; clientSecret: string; apiKey: string };
  let resourceId: string;
  const users = { admin: 'console-admin@example.com', approver: 'console-approver@example.com', viewer: 'console-viewer@example.com', ada: 'ada@example.com' };
  const ids: Record<string, string> = {};
  const cspViolations: string[] = [];
  let counter = 0;

  before(async () => {
    if (skip) return;
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server, { name: 'Ops Agent', owner: 'ops@example.com', scopes: ['calc', 'files:read', 'deploy'], audiences: [RESOURCE] }, RESOURCE);
    const resources = (await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] };
    resourceId = resources.resources.find((r) => r.resource === RESOURCE)!.id;
    await server.admin('PATCH', `/resources/${resourceId}`, {
      name: 'Tools MCP server',
      scopes: [
        { name: 'calc', description: 'Run calculations', risk: 'low' },
        { name: 'files:read', description: 'Read your files', risk: 'medium' },
        { name: 'deploy', description: 'Deploy to production', risk: 'critical' },
      ],
    });
    ids['admin'] = await createUser(server, users.admin, { is_admin: true, name: 'Grace Admin' });
    ids['approver'] = await createUser(server, users.approver, { roles: ['approver'], name: 'Alan Approver' });
    ids['viewer'] = await createUser(server, users.viewer, { roles: ['viewer'], name: 'Vera Viewer' });
    ids['ada'] = await createUser(server, users.ada);
    await createApp(server, { name: 'Team Chat', redirect_uris: ['https://chat.example.com/callback'], scopes: ['calc'], audiences: [RESOURCE] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  after(async () => {
    if (skip) return;
    await browser.close();
    await server.close();
    assert.deepEqual(cspViolations, [], 'no page broke its own CSP');
  });

  /**
   * Every page screenshotted is also checked for the basics a screen-reader and keyboard user needs: one h1, a main
   * landmark, a label for every visible form control, an accessible name for every button and link.
   */
  async function shot(page: Page, name: string): Promise<void> {
    // A string, evaluated in the page: this project's TypeScript has no DOM types.
    const problems = (await page.evaluate(`(() => {
      const found = [];
      const h1 = document.querySelectorAll('h1').length;
      if (h1 !== 1) found.push(h1 + ' h1');
      if (!document.querySelector('main')) found.push('no main');
      for (const control of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
        if (control.labels.length === 0 && !control.getAttribute('aria-label')) found.push('unlabelled ' + control.name);
      }
      for (const element of document.querySelectorAll('button, a')) {
        if (!(element.getAttribute('aria-label') || element.textContent || '').trim()) found.push('unnamed ' + element.outerHTML.slice(0, 60));
      }
      return found;
    })()`)) as string[];
    assert.deepEqual(problems, [], `accessibility basics of ${name}`);
    await page.screenshot({ path: `${SHOTS}${fixture.dialect}-${name}.png`, fullPage: true });
  }

  async function signIn(email: string, path: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
    await page.goto(`${server.issuer}${path}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => url.pathname === path);
    return { context, page };
  }

  /** The agent asks for `scope` on Ada's behalf (CIBA) and returns its auth_req_id and how to poll. */
  async function askAsAgent(scope: string, extra: Record<string, string> = {}): Promise<{ authReqId: string; binding: string; poll(): Promise<Response> }> {
    const binding = `Request ${++counter} ${fixture.dialect}`;
    const response = await server.postForm('/bc-authorize', { scope: `openid ${scope}`, resource: RESOURCE, login_hint: users.ada, binding_message: binding, ...extra }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(response.status, 200, await response.clone().text());
    const { auth_req_id: authReqId } = (await response.json()) as { auth_req_id: string };
    const poll = () => {
      server.clock.advance(6);
      return server.postForm('/token', { grant_type: CIBA, auth_req_id: authReqId }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    };
    return { authReqId, binding, poll };
  }

  const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true }).click();
  const rowOf = (page: Page, binding: string) => page.locator('#pending-approvals tbody tr', { hasText: binding });

  test('issue 12: a request appears live in the console; the admin approves it and the agent’s CIBA poll gets its token; a denial reaches it as access_denied', { skip }, async () => {
    const { context, page } = await signIn(users.admin, '/admin/approvals');
    await shot(page, 'approvals-empty');
    // The page is open before the agent asks: the row must arrive over the event stream, without a reload.
    const approve = await askAsAgent('calc');
    await rowOf(page, approve.binding).waitFor();
    assert.match(await page.locator('#approvals-live').innerText(), /1 new approval request/);
    assert.equal(await page.locator('#pending-count').innerText(), '1');
    await shot(page, 'approvals-live');

    const pending = (await (await approve.poll()).json()) as { error: string };
    assert.equal(pending.error, 'authorization_pending');
    await rowOf(page, approve.binding).getByLabel('Reason').fill('Ada asked for it on the phone');
    await rowOf(page, approve.binding).getByRole('button', { name: /^Approve/ }).click();
    await page.waitForURL(/notice=approved/);
    assert.match(await page.getByRole('status').first().innerText(), /approved/i);
    const granted = await approve.poll();
    assert.equal(granted.status, 200, await granted.clone().text());
    const tokens = (await granted.json()) as { access_token: string; scope: string };
    assert.equal(tokens.scope, 'openid calc');

    const deny = await askAsAgent('files:read');
    await rowOf(page, deny.binding).waitFor();
    await rowOf(page, deny.binding).getByLabel('Reason').fill('not expected today');
    await rowOf(page, deny.binding).getByRole('button', { name: /^Deny/ }).click();
    await page.waitForURL(/notice=denied/);
    const refused = await deny.poll();
    assert.equal(refused.status, 400);
    const body = (await refused.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'access_denied');
    assert.match(body.error_description, /not expected today/);
    const decided = page.locator('section[aria-labelledby="decided-heading"]');
    assert.match(await decided.innerText(), /denied[\s\S]*Grace Admin|console-admin@example\.com/);
    await shot(page, 'approvals-decided');
    await context.close();

    const audit = (await (await server.admin('GET', '/audit?event=approval.*')).json()) as { events: { event: string; actor: string }[] };
    assert.ok(audit.events.some((e) => e.event === 'approval.approved' && e.actor === ids['admin']), 'the decision is the session user’s');
  });

  test('issue 12 item 2: a critical request needs a fresh sign-in; after signing in again the admin approves it', { skip }, async () => {
    const { context, page } = await signIn(users.admin, '/admin/approvals');
    // It waits longer than the sign-in stays fresh (5 minutes).
    const critical = await askAsAgent('deploy', { requested_expiry: '900' });
    await rowOf(page, critical.binding).waitFor();
    assert.match(await rowOf(page, critical.binding).innerText(), /critical risk/);
    server.clock.advance(301);
    await rowOf(page, critical.binding).getByRole('button', { name: /^Approve/ }).click();
    assert.match(await page.getByRole('alert').innerText(), /fresh sign-in/);
    await shot(page, 'approvals-reauth');
    await page.getByRole('link', { name: /Sign in again/ }).click();
    await page.getByLabel('Email').fill(users.admin);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/admin/approvals');
    await rowOf(page, critical.binding).getByRole('button', { name: /^Approve/ }).click();
    await page.waitForURL(/notice=approved/);
    assert.equal((await critical.poll()).status, 200);
    await context.close();
  });

  test('issue 12: a viewer sees no decision button and is refused a decision (403); an approver cannot change a policy; a forged approver field is ignored', { skip }, async () => {
    const request = await askAsAgent('calc');
    const list = (await (await server.admin('GET', '/approvals?status=pending')).json()) as { approvals: { id: string; justification: string }[] };
    const id = list.approvals.find((a) => a.justification === request.binding)!.id;

    const viewer = await signIn(users.viewer, '/admin/approvals');
    await rowOf(viewer.page, request.binding).waitFor();
    assert.equal(await viewer.page.getByRole('button', { name: /^Approve/ }).count(), 0, 'no Approve button for a viewer');
    assert.match(await rowOf(viewer.page, request.binding).innerText(), /Read-only/);
    await shot(viewer.page, 'approvals-viewer');
    const csrf = await viewer.page.locator('input[name="csrf"]').first().inputValue();
    const viewerPost = await viewer.context.request.post(`${server.issuer}/admin/approvals/${id}/decision`, { form: { csrf, decision: 'approve' }, maxRedirects: 0 });
    assert.equal(viewerPost.status(), 403);
    assert.match(await viewerPost.text(), /cannot change anything here/);
    // A viewer reads every section, and changes none.
    for (const section of ['', '/agents', '/clients', '/resources', '/users', '/grants', '/keys', '/audit']) {
      await viewer.page.goto(`${server.issuer}/admin${section}`);
      assert.equal(await viewer.page.locator('main form[method="post"]').count(), 0, `no form for a viewer at /admin${section}`);
    }
    await viewer.context.close();

    const approver = await signIn(users.approver, '/admin/approvals');
    const approverCsrf = await approver.page.locator('input[name="csrf"]').first().inputValue();
    const nav = await approver.page.getByRole('navigation', { name: 'Console' }).innerText();
    assert.doesNotMatch(nav, /Resources/, 'an approver’s navigation has approvals only');
    const policyPost = await approver.context.request.post(`${server.issuer}/admin/resources/${resourceId}/policies/calc`, { form: { csrf: approverCsrf, policy: 'auto' }, maxRedirects: 0 });
    assert.equal(policyPost.status(), 403);
    const policies = (await (await server.admin('GET', `/resources/${resourceId}/policies`)).json()) as { policies: { scope: string; source: string }[] };
    assert.equal(policies.policies.find((p) => p.scope === 'calc')!.source, 'default', 'the policy is unchanged');
    const resourcesPage = await approver.page.goto(`${server.issuer}/admin/resources`);
    assert.equal(resourcesPage!.status(), 403);
    await shot(approver.page, 'forbidden-approver');

    const forged = await approver.context.request.post(`${server.issuer}/admin/approvals/${id}/decision`, {
      form: { csrf: approverCsrf, decision: 'approve', reason: 'ok', decided_by: ids['admin']!, approver: ids['admin']!, decider: 'someone-else' },
      maxRedirects: 0,
    });
    assert.equal(forged.status(), 303);
    const view = (await (await server.admin('GET', `/approvals/${id}`)).json()) as { decided_by: string; status: string };
    assert.equal(view.status, 'approved');
    assert.equal(view.decided_by, ids['approver'], 'recorded for the session’s user, not the form’s');
    await approver.context.close();

    const nobody = await signIn(users.ada, '/account');
    const denied = await nobody.page.goto(`${server.issuer}/admin`);
    assert.equal(denied!.status(), 403);
    assert.match(await nobody.page.getByRole('alert').innerText(), /no console role/);
    await shot(nobody.page, 'forbidden-no-role');
    await nobody.context.close();
  });

  test('issue 12 item 8: Ada approves a request about her on /account, sees the agent and what it may do, revokes it, and the agent’s next call fails', { skip }, async () => {
    const request = await askAsAgent('calc files:read');
    const { context, page } = await signIn(users.ada, '/account');
    const requests = page.locator('section[aria-labelledby="requests"]');
    assert.match(await requests.innerText(), new RegExp(request.binding));
    await shot(page, 'account-request');
    await requests.getByRole('button', { name: /^Approve/ }).click();
    await page.waitForURL(/notice=approved/);
    const granted = await request.poll();
    assert.equal(granted.status, 200, await granted.clone().text());
    const { access_token: token } = (await granted.json()) as { access_token: string };
    const introspect = () => server.postForm('/introspect', { token }, { authorization: `Bearer ${agent.apiKey}` });
    assert.equal(((await (await introspect()).json()) as { active: boolean }).active, true);

    await page.goto(`${server.issuer}/account`);
    const agents = page.locator('section[aria-labelledby="agents"]');
    assert.match(await agents.innerText(), /Ops Agent[\s\S]*openid calc[\s\S]*files:read/);
    await shot(page, 'account-agents');
    await agents.getByRole('button', { name: 'Revoke agent Ops Agent' }).click();
    await page.waitForURL(/notice=agent-revoked/);
    assert.match(await page.getByRole('status').innerText(), /next call fails/);
    assert.match(await page.locator('section[aria-labelledby="agents"]').innerText(), /No agent acts for you/);
    await shot(page, 'account-agent-revoked');
    assert.equal(((await (await introspect()).json()) as { active: boolean }).active, false, 'the agent’s token is dead');
    await context.close();
  });

  test('issue 12 item 6: every console page, as an admin: agents (secret once, rotate, disable), clients, resources and policies, users, grants and tokens, keys, audit', { skip }, async () => {
    const { context, page } = await signIn(users.admin, '/admin');
    assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /Dashboard/);
    await shot(page, 'dashboard');

    await nav(page, 'Agents');
    await page.getByLabel('Name', { exact: true }).fill('Billing Agent');
    await page.getByLabel(/^Scopes/).fill('calc');
    await page.getByLabel(/^Audiences/).fill(RESOURCE);
    await page.getByRole('button', { name: 'Create agent' }).click();
    const secret = await page.locator('#secret-value').innerText();
    assert.match(secret, /^[A-Za-z0-9_-]{20,}$/);
    await shot(page, 'agents-created');
    await page.goto(`${server.issuer}/admin/agents`);
    assert.equal(await page.locator('#secret-value').count(), 0, 'the secret is shown once');
    await page.getByRole('link', { name: 'Edit agent Billing Agent' }).click();
    await page.getByLabel(/^Description/).fill('Sends the monthly invoices');
    await page.getByLabel(/^Access token lifetime/).fill('300');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/notice=updated/);
    assert.match(await page.getByRole('status').first().innerText(), /Agent saved/);
    assert.equal(await page.getByLabel(/^Access token lifetime/).inputValue(), '300');
    await shot(page, 'agent-edit');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = await page.locator('#secret-value').innerText();
    assert.ok(rotated && rotated !== secret, 'a new secret, shown once');
    await shot(page, 'agent-secret-rotated');
    await page.goto(`${server.issuer}/admin/agents`);
    await page.getByRole('button', { name: 'Disable agent Billing Agent' }).click();
    await shot(page, 'agents-confirm-disable');
    await page.getByRole('button', { name: 'Disable agent' }).click();
    await page.waitForURL(/notice=disabled/);
    await shot(page, 'agents');

    await nav(page, 'OAuth clients');
    await page.getByLabel('Name', { exact: true }).fill('Wiki');
    await page.getByLabel(/^Redirect URIs/).fill('http://evil.example.com/callback');
    await page.getByRole('button', { name: 'Register client' }).click();
    assert.match(await page.getByRole('alert').innerText(), /redirect_uris/, 'the admin API’s redirect-URI policy refuses plain http');
    await shot(page, 'clients-refused');
    await page.getByLabel(/^Redirect URIs/).fill('https://wiki.example.com/callback');
    await page.getByRole('button', { name: 'Register client' }).click();
    assert.ok(await page.locator('#secret-value').innerText());
    await shot(page, 'clients');
    await page.getByRole('link', { name: 'Edit client Wiki' }).click();
    await page.getByLabel(/^Redirect URIs/).fill('https://wiki.example.com/callback\nhttps://wiki.example.com/oauth/done');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.waitForURL(/notice=updated/);
    assert.match(await page.locator('main').innerText(), /Client saved/);
    await shot(page, 'client-edit');
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    assert.match(await page.locator('#secret-value').innerText(), /^[A-Za-z0-9_-]{20,}$/);
    await shot(page, 'client-secret-rotated');

    await nav(page, 'Resources & policies');
    await shot(page, 'resources');
    await page.getByRole('link', { name: 'Scopes and policies of Tools MCP server' }).click();
    await page.locator('details', { hasText: 'Edit the policy of files:read' }).locator('summary').click();
    await page.getByLabel('Policy').nth(1).selectOption('admin_approval');
    await page.getByRole('button', { name: 'Save policy of files:read' }).click();
    await page.waitForURL(/notice=policy/);
    assert.match(await page.locator('#scope-files\\:read').innerText(), /admin_approval[\s\S]*v1/);
    await shot(page, 'resource-policies');

    await nav(page, 'Users & roles');
    await shot(page, 'users');
    await nav(page, 'Grants & tokens');
    assert.match(await page.locator('main').innerText(), /Active grants/);
    await shot(page, 'grants');
    const revoke = page.getByRole('button', { name: /^Revoke token .* and every token exchanged from it/ }).first();
    if (await revoke.count()) {
      await revoke.click();
      await page.getByRole('button', { name: 'Revoke token chain' }).click();
      await page.waitForURL(/notice=token/);
    }
    await nav(page, 'Signing keys');
    await shot(page, 'keys');
    await page.getByRole('button', { name: 'Rotate signing key' }).click();
    await page.getByRole('button', { name: 'Rotate key' }).click();
    await page.waitForURL(/notice=rotated/);
    assert.equal(await page.locator('tbody tr').count(), 2);

    await nav(page, 'Audit log');
    await page.getByLabel('Event type').fill('approval.*');
    await page.getByRole('button', { name: 'Search' }).click();
    assert.match(await page.locator('table.audit').innerText(), /approval\.approved/);
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.waitForURL(/\/admin\/audit\/verify/);
    assert.match(await page.getByRole('status').first().innerText(), /chain intact/);
    await shot(page, 'audit');
    await context.close();
  });
});

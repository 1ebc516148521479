import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { authorizeInBrowser, Browser as HttpBrowser, createApp, createUser, PASSWORD, pkce, redirectParams } from '../helpers/user-flow.ts';

const CHROMIUM = '/usr/bin/chromium';

/** Chrome's virtual authenticator (a platform passkey with user verification) for this page's WebAuthn calls. */
async function addVirtualAuthenticator(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
}
const SHOTS = fileURLToPath(new URL('../../../../test-results/', import.meta.url));
const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install -y chromium)';

/**
 * The login, consent and account pages in a real browser (Debian Chromium driven by playwright-core): password
 * login, the consent page naming the agent, the redirect back with code/state/iss, a passkey registered and used
 * through Chrome's virtual authenticator, and consent revoked. Screenshots go to test-results/ for a person to look at.
 */
forEachStore('browser: login, consent, passkey', (fixture) => {
  let server: TestServer;
  let callback: Server;
  let callbackUrl: string;
  let browser: Browser;
  let app: { clientId: string };
  let agent: { clientId: string };
  const cspViolations: string[] = [];

  before(async () => {
    if (skip) return;
    mkdirSync(SHOTS, { recursive: true });
    callback = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Demo app</title><h1>Back at the app</h1>'));
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server, {
      name: 'Research Assistant',
      owner: 'owner@example.com',
      description: 'Reads your files and runs calculations to answer questions.',
      scopes: ['calc', 'files:read', 'exec'],
    });
    await server.admin('PATCH', `/resources/${encodeURIComponent(MCP_RESOURCE)}`, {
      scopes: [
        { name: 'calc', description: 'Run calculations', risk: 'low' },
        { name: 'files:read', description: 'Read your files', risk: 'medium' },
        { name: 'files:write', description: 'Change your files', risk: 'high' },
        { name: 'exec', description: 'Run commands on your computer', risk: 'high' },
      ],
    });
    // The consent page is the point here: `exec` (high risk, an approver's by default) is left to the user's consent.
    assert.equal((await server.admin('PUT', `/resources/${encodeURIComponent(MCP_RESOURCE)}/policies/exec`, { policy: 'user_consent' })).status, 200);
    await createUser(server, 'ada@example.com');
    app = await createApp(server, { name: 'Chat Demo', public: true, redirect_uris: ['http://127.0.0.1/callback'] });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  after(async () => {
    if (skip) return;
    await browser.close();
    await server.close();
    await new Promise((resolve) => callback.close(resolve));
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}${fixture.dialect}-${name}.png`, fullPage: true });
  const watch = (page: Page) =>
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });

  test('password login → consent naming the agent → redirect with code, state and iss', { skip }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    watch(page);
    const { challenge } = pkce();
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: app.clientId,
      redirect_uri: callbackUrl,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'browser-state',
      scope: 'openid email calc files:read exec',
      resource: MCP_RESOURCE,
      requested_actor: agent.clientId,
    });
    await page.goto(`${server.issuer}/authorize?${query}`);
    assert.equal(await page.title(), 'Sign in · Mandate');
    await shot(page, 'login');

    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    assert.match(await page.getByRole('alert').first().innerText(), /not correct/);
    await shot(page, 'login-error');

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/authorize\?/);
    assert.equal(await page.title(), 'Authorize access · Mandate');
    const heading = await page.getByRole('heading', { level: 1 }).innerText();
    assert.match(heading, /Research Assistant/);
    const text = await page.locator('main').innerText();
    assert.match(text, /Chat Demo/);
    assert.match(text, /owner@example\.com/);
    assert.ok(text.includes(agent.clientId));
    assert.match(text, /Run commands on your computer\s*High risk/);
    await shot(page, 'consent');

    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((url) => url.href.startsWith(callbackUrl));
    const back = new URL(page.url()).searchParams;
    assert.ok(back.get('code'));
    assert.equal(back.get('state'), 'browser-state');
    assert.equal(back.get('iss'), server.issuer);

    await page.goto(`${server.issuer}/account`);
    assert.match(await page.locator('main').innerText(), /Chat Demo[\s\S]*Research Assistant/);
    await shot(page, 'account');

    // A passkey, registered through Chrome's virtual authenticator, then used to sign in again.
    await addVirtualAuthenticator(context, page);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForSelector('#passkeys ~ ul li');
    await shot(page, 'account-passkey');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login$/);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL(/\/account$/);
    assert.match(await page.locator('header').innerText(), /ada@example\.com/);

    await page.getByRole('button', { name: /Revoke Chat Demo/ }).click();
    await page.waitForURL(/notice=revoked/);
    assert.match(await page.getByRole('status').innerText(), /Access revoked/);
    assert.match(await page.locator('main').innerText(), /None\./);
    await shot(page, 'account-revoked');
    await context.close();

    const logins = (await (await server.admin('GET', '/audit?event=login.succeeded')).json()) as { events: { detail: { method: string } }[] };
    assert.deepEqual(logins.events.map((e) => e.detail.method).sort(), ['passkey', 'password']);
  });

  test('SR-15 SR-18 /account in a browser: every active grant revocable, passkeys removable, a stale login asked to sign in again', { skip }, async () => {
    await createUser(server, 'grace@example.com');
    // Two one-time authorizations (nothing remembered), made over HTTP: /account must still list both.
    const http = new HttpBrowser();
    for (let i = 0; i < 2; i++) {
      const params = { response_type: 'code', client_id: app.clientId, redirect_uri: callbackUrl, code_challenge: pkce().challenge, code_challenge_method: 'S256', scope: 'openid calc', resource: MCP_RESOURCE, state: 's' };
      const { response } = await authorizeInBrowser(server, http, params, { email: 'grace@example.com', remember: false });
      assert.ok(redirectParams(response).get('code'));
    }
    const context = await browser.newContext();
    const page = await context.newPage();
    watch(page);
    const signIn = async () => {
      await page.getByLabel('Email').fill('grace@example.com');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(/\/account$/);
    };
    await page.goto(`${server.issuer}/login?return_to=%2Faccount`);
    await signIn();
    const grants = page.locator('section[aria-labelledby="grants"]');
    assert.equal(await grants.getByRole('button', { name: /Revoke the access of Chat Demo/ }).count(), 2);

    await addVirtualAuthenticator(context, page);
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForSelector('#passkeys ~ ul li');
    await shot(page, 'account-grants-passkeys');
    await page.getByRole('button', { name: /Remove passkey Passkey/ }).click();
    await page.waitForURL(/notice=passkey-removed/);
    assert.match(await page.getByRole('status').innerText(), /Passkey removed/);
    assert.match(await page.locator('section[aria-labelledby="passkeys"]').innerText(), /No passkeys yet/);

    await grants.getByRole('button', { name: /Revoke the access of Chat Demo/ }).first().click();
    await page.waitForURL(/notice=revoked/);
    assert.equal(await grants.getByRole('button', { name: /Revoke the access of Chat Demo/ }).count(), 1);

    server.clock.advance(301);
    await page.goto(`${server.issuer}/account`);
    assert.equal(await page.getByRole('button', { name: 'Add a passkey' }).count(), 0, 'a login older than 5 minutes cannot add one');
    await shot(page, 'account-passkey-reauth');
    await page.getByRole('link', { name: 'sign in again' }).click();
    await signIn();
    await page.getByRole('button', { name: 'Add a passkey' }).waitFor();
    await context.close();
  });

  test('MCP-C-03 step-up: the consent page asks only for the new scope and lists those already allowed', { skip }, async () => {
    const host = await createApp(server, { name: 'MCP Host', public: true, redirect_uris: ['http://127.0.0.1/callback'], scopes: ['calc', 'files:write'], audiences: [MCP_RESOURCE] });
    const context = await browser.newContext();
    const page = await context.newPage();
    watch(page);
    const authorize = async (scope: string) => {
      const query = new URLSearchParams({ response_type: 'code', client_id: host.clientId, redirect_uri: callbackUrl, code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 's', scope });
      await page.goto(`${server.issuer}/authorize?${query}`);
    };
    await authorize('calc');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/authorize\?/);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((url) => url.href.startsWith(callbackUrl));

    await authorize('files:write');
    assert.equal(await page.getByRole('heading', { level: 2 }).first().innerText(), 'It will also be allowed to:');
    const lists = page.locator('ul.scopes');
    assert.match(await lists.nth(0).innerText(), /^Change your files\s*High risk/);
    assert.doesNotMatch(await lists.nth(0).innerText(), /calculations/);
    assert.equal(await page.getByRole('heading', { name: 'Already allowed (kept):' }).count(), 1);
    assert.match(await lists.nth(1).innerText(), /^Run calculations/);
    await shot(page, 'consent-step-up');
    await context.close();
  });

  test('pages load no inline script or style: no Content-Security-Policy violation', { skip }, () => {
    assert.deepEqual(cspViolations, []);
  });
});

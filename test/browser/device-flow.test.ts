import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { AgentAuthClient } from '@mandate/sdk/agent';
import { type Browser, chromium, type Page } from 'playwright-core';
import { decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { createUser, PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install -y chromium)';

/**
 * RFC 8628 end to end (issue 13 item 7): a headless agent starts a device authorization with the SDK and polls;
 * a person opens the verification link in a real browser (Debian Chromium, playwright-core), signs in, checks the
 * code and approves; the agent's `waitForTokens()` resolves with the person's token. The agent's `sleep` moves
 * the server's frozen clock by the interval it waits, so every poll is on time without real waiting.
 */
forEachStore('browser: device authorization grant', (fixture) => {
  let server: TestServer;
  let browser: Browser;
  const resource = 'https://device-browser.example.com/mcp';

  before(async () => {
    if (skip) return;
    mkdirSync(SHOTS, { recursive: true });
    // An hour to decide: the agent's polls advance the server's clock, however slowly the browser runs here.
    server = await startTestServer(fixture, { device: { codeTtlSeconds: 3600 } });
    await createUser(server, 'grace@example.com');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  after(async () => {
    if (skip) return;
    await browser.close();
    await server.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}${fixture.dialect}-device-${name}.png`, fullPage: true });

  test('DAG a person enters the code in the browser, signs in and approves; the polling agent gets its token', { skip }, async () => {
    const agent = await registerAgentAndResource(server, { name: 'Build Bot', scopes: ['calc'] }, resource);
    const polls: number[] = [];
    const client = new AgentAuthClient({
      issuer: server.issuer,
      clientId: agent.clientId,
      clientSecret: agent.clientSecret,
      clock: server.clock.nowMs,
      // Each wait moves the server's clock by the interval, then yields briefly to the browser.
      sleep: async (ms) => {
        polls.push(ms);
        server.clock.advance(ms / 1000);
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
    });
    const authorization = await client.startDeviceAuthorization({ scope: 'calc', resource });
    assert.match(authorization.userCode, /^[A-Z]{4}-[A-Z]{4}$/);
    const tokens = authorization.waitForTokens();

    const page = await (await browser.newContext()).newPage();
    await page.goto(authorization.verificationUriComplete!);
    assert.equal(await page.title(), 'Sign in · Mandate');
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/device\?user_code=/);
    assert.equal(await page.title(), 'Connect a device · Mandate');
    // Prefilled from the link, but not submitted by it: the person continues.
    assert.equal(await page.getByLabel('Code').inputValue(), authorization.userCode);
    await shot(page, 'entry');
    await page.getByRole('button', { name: 'Continue' }).click();

    assert.equal(await page.title(), 'Authorize a device · Mandate');
    assert.equal(await page.locator('#confirm-code').innerText(), authorization.userCode);
    assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /Build Bot/);
    await shot(page, 'confirm');
    await page.getByRole('button', { name: 'Approve' }).click();
    assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /Device connected/);
    await shot(page, 'approved');

    const issued = await tokens;
    const claims = decodeJwt(issued.accessToken).payload;
    const user = await server.store.getUserByEmail('grace@example.com');
    assert.equal(claims['sub'], user!.id);
    assert.equal(claims['client_id'], agent.clientId);
    assert.ok([claims['aud']].flat().includes(resource));
    assert.ok(polls.length >= 1 && polls.every((ms) => ms >= 5000));
  });

  test('DAG a mistyped code is refused on the page with an accessible error; entered again correctly (lower case, no dash) it is accepted, and a denial reaches the agent', { skip }, async () => {
    const agent = await registerAgentAndResource(server, { name: 'Deploy Bot', scopes: ['calc'] }, resource);
    const client = new AgentAuthClient({
      issuer: server.issuer,
      clientId: agent.clientId,
      clientSecret: agent.clientSecret,
      clock: server.clock.nowMs,
      sleep: async (ms) => {
        server.clock.advance(ms / 1000);
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
    });
    const authorization = await client.startDeviceAuthorization({ scope: 'calc', resource });
    const tokens = authorization.waitForTokens().then(
      () => assert.fail('a denied request must not yield tokens'),
      (err: { error?: string }) => err.error,
    );
    const page = await (await browser.newContext()).newPage();
    await page.goto(authorization.verificationUri);
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/device$/);
    await page.getByLabel('Code').fill('BCDF-GHJX');
    await page.getByRole('button', { name: 'Continue' }).click();
    assert.match(await page.getByRole('alert').innerText(), /not valid/);
    assert.match((await page.getByLabel('Code').getAttribute('aria-describedby')) ?? '', /code-error/);
    await shot(page, 'mistyped');
    await page.getByLabel('Code').fill(authorization.userCode.replace('-', '').toLowerCase());
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Deny' }).click();
    assert.match(await page.getByRole('heading', { level: 1 }).innerText(), /Request denied/);
    await shot(page, 'denied');
    assert.equal(await tokens, 'access_denied');
  });
});

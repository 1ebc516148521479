import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import { MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { createApp, createUser, PASSWORD, pkce } from '../../packages/server/test/helpers/user-flow.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../test-results/', import.meta.url));
const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install -y chromium)';

/**
 * Consent phishing with a look-alike name (issue 14 leftover 4) in a real browser (Debian Chromium, playwright-core):
 * the operator registered "Claude Desktop"; a client registers itself as "Сlaude Desktop" (a Cyrillic С) and sends
 * the user its authorization link. The consent page shows, as an alert above the choice, that it may be an
 * imitation of "Claude Desktop" and that its name mixes alphabets; the screenshot is docs/screenshots/consent-look-alike.png.
 */
forEachStore('browser: a look-alike client name on the consent page', (fixture) => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    if (skip) return;
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer(fixture, { registration: { perIpPerMinute: 0 } });
    await registerAgentAndResource(server);
    await createApp(server, { name: 'Claude Desktop' });
    await createUser(server, 'ada@example.com');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  });
  after(async () => {
    if (skip) return;
    await browser.close();
    await server.close();
  });

  test('LOOK-ALIKE the consent page of a self-registered "Сlaude Desktop" alerts that it may imitate Claude Desktop', { skip }, async () => {
    const registered = await fetch(`${server.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: '\u0421laude Desktop', redirect_uris: ['http://127.0.0.1/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] }),
    });
    assert.equal(registered.status, 201);
    const { client_id: clientId } = (await registered.json()) as { client_id: string };
    const query = new URLSearchParams({
      response_type: 'code', client_id: clientId, redirect_uri: 'http://127.0.0.1:50001/callback', code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 's', scope: 'calc', resource: MCP_RESOURCE,
    });

    const page = await (await browser.newContext({ viewport: { width: 900, height: 900 } })).newPage();
    await page.goto(`${server.issuer}/authorize?${query}`);
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/authorize/);
    assert.equal(await page.title(), 'Authorize access · Mandate');
    const alert = page.getByRole('alert');
    assert.ok(await alert.isVisible(), 'the warning is shown as an alert');
    const text = await alert.innerText();
    assert.match(text, /this may be an imitation/);
    assert.match(text, /looks like Claude Desktop, an application registered on this server/);
    assert.match(text, /different alphabets \(Cyrillic, Latin\)/);
    // Shown before the buttons, so the user reads it before choosing.
    const alertBox = (await alert.boundingBox())!;
    const approveBox = (await page.getByRole('button', { name: 'Approve' }).boundingBox())!;
    assert.ok(alertBox.y < approveBox.y);
    await page.screenshot({ path: `${SHOTS}${fixture.dialect}-consent-look-alike.png`, fullPage: true });
  });
});

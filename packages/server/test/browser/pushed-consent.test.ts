import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { argumentsSha256 } from '@mandate/protocol';
import { type Browser, chromium } from 'playwright-core';
import { basicAuth, MCP_RESOURCE, registerAgentAndResource, startTestServer, type TestServer } from '../helpers/server.ts';
import { forEachStore } from '../helpers/stores.ts';
import { createApp, createUser, PASSWORD, pkce } from '../helpers/user-flow.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../../../test-results/', import.meta.url));
const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install -y chromium)';

/**
 * A pushed authorization request (RFC 9126) asking for one tool call (RFC 9396 `mcp_tool`) in a real browser: the
 * browser carries only `client_id` and `request_uri` through the login page to the consent page, which names the
 * tool, its server and the arguments' hash and offers no "remember"; approving lands back at the client.
 */
forEachStore('browser: consent to a pushed request for one tool call', (fixture) => {
  let server: TestServer;
  let callback: Server;
  let callbackUrl: string;
  let browser: Browser;

  before(async () => {
    if (skip) return;
    mkdirSync(SHOTS, { recursive: true });
    callback = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Demo app</title><h1>Back at the app</h1>'));
    await new Promise<void>((resolve) => callback.listen(0, '127.0.0.1', resolve));
    callbackUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
    server = await startTestServer(fixture);
    await registerAgentAndResource(server, {}, MCP_RESOURCE);
    await createUser(server, 'ada@example.com');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    if (skip) return;
    await browser.close();
    await server.close();
    await new Promise((resolve) => callback.close(resolve));
  });

  test('login and consent through request_uri alone; the page names the tool call and offers no "remember"', { skip }, async () => {
    const resourceId = ((await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] }).resources.find((r) => r.resource === MCP_RESOURCE)!.id;
    await server.admin('PUT', `/resources/${resourceId}/tools/run_command`, { per_action_approval: true, risk: 'medium' });
    const app = await createApp(server, { name: 'Ops Console', redirect_uris: ['http://127.0.0.1/callback'], audiences: [MCP_RESOURCE] });
    const pushed = await server.postForm(
      '/par',
      {
        response_type: 'code',
        redirect_uri: callbackUrl,
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        state: 'pushed-state',
        scope: 'calc',
        resource: MCP_RESOURCE,
        authorization_details: JSON.stringify([{ type: 'mcp_tool', tool: 'run_command', arguments_sha256: argumentsSha256({ command: 'ls /srv' }) }]),
      },
      { authorization: basicAuth(app.clientId, app.clientSecret!) },
    );
    assert.equal(pushed.status, 201);
    const { request_uri } = (await pushed.json()) as { request_uri: string };

    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.issuer}/authorize?${new URLSearchParams({ client_id: app.clientId, request_uri })}`);
    assert.equal(await page.title(), 'Sign in · Mandate');
    assert.ok(!page.url().includes('run_command'), 'the pushed parameters never enter the browser URL');
    await page.getByLabel('Email').fill('ada@example.com');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/\/authorize\?/);
    assert.equal(await page.title(), 'Authorize access · Mandate');
    const call = await page.getByRole('group', { name: 'Tool call' }).innerText();
    assert.match(call, /run_command/);
    assert.ok(call.includes(MCP_RESOURCE));
    assert.equal(await page.getByLabel('Remember this decision').count(), 0);
    await page.screenshot({ path: `${SHOTS}${fixture.dialect}-consent-tool-call.png`, fullPage: true });

    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/127\.0\.0\.1:\d+\/callback/);
    const back = new URL(page.url()).searchParams;
    assert.equal(back.get('state'), 'pushed-state');
    assert.equal(back.get('iss'), server.issuer);
    assert.ok(back.get('code'));
  });
});

import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { AgentAuthClient } from '../../packages/sdk/src/agent/index.ts';
import { callToolWithActionToken } from '../../packages/sdk/src/mcp/client/index.ts';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { createUser, PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';
import { callToolWith, startToolsMcpServer, type ToolsMcpServer } from '../helpers/tools-mcp.ts';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = fileURLToPath(new URL('../../test-results/console-actions/', import.meta.url));
const skip = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed (apt-get install -y chromium)';
const CIBA = 'urn:openid:params:grant-type:ciba';
const RESOURCE = 'https://tools.example.com/mcp';

/**
 * Issue 12's browser acceptance through a real MCP server (the unmodified MCP SDK behind the SDK's `createMcpAuth`,
 * introspecting every token) and Debian Chromium, on both stores:
 * - RAR-01 an approver approves a single `run_command` call (CIBA with an RFC 9396 `mcp_tool` detail) in the console,
 *   where the row shows the tool and the arguments' hash; the call runs once and the second identical call is refused;
 * - a user approves a request about her on /account, the agent's tool call runs, she revokes the agent there, and
 *   the agent's next tool call fails.
 */
forEachStore('browser: per-action approval in the console and revocation on /account, through an MCP server', (fixture) => {
  let server: TestServer;
  let browser: Browser;
  let mcp: ToolsMcpServer;
  let agent: { clientId: string; clientSecret: string; apiKey: string };
  const approver = 'actions-approver@example.com';
  const ada = 'actions-ada@example.com';
  let adaId: string;

  before(async () => {
    if (skip) return;
    mkdirSync(SHOTS, { recursive: true });
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server, { name: 'Ops Agent', scopes: ['calc', 'exec'], audiences: [RESOURCE] }, RESOURCE);
    const resourceId = ((await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] }).resources.find((r) => r.resource === RESOURCE)!.id;
    assert.equal((await server.admin('PUT', `/resources/${resourceId}/tools/run_command`, { per_action_approval: true, risk: 'high' })).status, 200);
    await createUser(server, approver, { roles: ['approver'], name: 'Alan Approver' });
    adaId = await createUser(server, ada, { name: 'Ada Lovelace' });
    mcp = await startToolsMcpServer({ issuer: server.issuer, resource: RESOURCE, apiKey: agent.apiKey, clock: server.clock.nowMs, introspect: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    if (skip) return;
    await browser.close();
    await mcp.close();
    await server.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}${fixture.dialect}-${name}.png`, fullPage: true });

  async function signIn(email: string, path: string): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${server.issuer}${path}`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => url.pathname === path);
    return { context, page };
  }

  test('RAR-01 acceptance: an approver approves a single run_command call in the console; it runs once and the second identical call is refused', { skip }, async () => {
    const { context, page } = await signIn(approver, '/admin/approvals');
    const args = { command: 'ls -la /srv' };
    const binding = `Run ls -la /srv (${fixture.dialect})`;
    let decided = false;
    const client = new AgentAuthClient({
      issuer: server.issuer,
      clientId: agent.clientId,
      clientSecret: agent.clientSecret,
      clock: server.clock.nowMs,
      // The agent's first wait is the approver's turn: the request arrives live in the open console.
      sleep: async (ms) => {
        if (!decided) {
          decided = true;
          const row = page.locator('#pending-approvals tbody tr', { hasText: binding });
          await row.waitFor();
          assert.match(await row.innerText(), /Single call of run_command[\s\S]*arguments SHA-256/);
          await row.getByLabel('Reason').fill('checked the command');
          await shot(page, 'action-pending');
          await row.getByRole('button', { name: /^Approve/ }).click();
          await page.waitForURL(/notice=approved/);
        }
        server.clock.advance(ms / 1000);
      },
    });
    const pending = await client.requestToolCallApproval({ loginHint: ada, resource: RESOURCE, tool: 'run_command', arguments: args, scope: 'exec', bindingMessage: binding });
    const tokens = await pending.tokens;
    assert.equal(decodeJwt(tokens.accessToken).payload['sub'], adaId);
    await shot(page, 'action-approved');
    await context.close();

    const first = await callToolWithActionToken({ url: mcp.url, token: tokens.accessToken, name: 'run_command', arguments: args });
    assert.equal((first as { content: { text: string }[] }).content[0]!.text, 'ran ls -la /srv');
    const second = await callToolWithActionToken({ url: mcp.url, token: tokens.accessToken, name: 'run_command', arguments: args }).then(
      () => assert.fail('the single-use token ran twice'),
      (err: unknown) => err,
    );
    assert.ok(second instanceof StreamableHTTPError && second.code === 401, String(second));
    assert.deepEqual(mcp.ran, ['ls -la /srv'], 'the tool ran exactly once');
  });

  test('issue 12 item 8 acceptance: a user revokes an agent on the self-service page and the agent’s next tool call fails', { skip }, async () => {
    const binding = `Add numbers (${fixture.dialect})`;
    const asked = await server.postForm('/bc-authorize', { scope: 'openid calc', resource: RESOURCE, login_hint: ada, binding_message: binding }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(asked.status, 200, await asked.clone().text());
    const { auth_req_id: authReqId } = (await asked.json()) as { auth_req_id: string };

    const { context, page } = await signIn(ada, '/account');
    const requests = page.locator('section[aria-labelledby="requests"]');
    assert.match(await requests.innerText(), /openid exec, a single call of run_command — approved \(checked the command\)/, 'Ada sees which action was approved for her');
    assert.match(await requests.innerText(), new RegExp(binding.replace(/[()]/g, '\\$&')));
    await requests.getByRole('button', { name: /^Approve/ }).click();
    await page.waitForURL(/notice=approved/);
    server.clock.advance(6);
    const granted = await server.postForm('/token', { grant_type: CIBA, auth_req_id: authReqId }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(granted.status, 200, await granted.clone().text());
    const { access_token: token } = (await granted.json()) as { access_token: string };
    assert.equal(await callToolWith(mcp.url, token, 'add', { a: 2, b: 3 }), '5', 'the agent acts for Ada');

    await page.goto(`${server.issuer}/account`);
    const agents = page.locator('section[aria-labelledby="agents"]');
    await agents.getByRole('button', { name: 'Revoke agent Ops Agent' }).click();
    await page.waitForURL(/notice=agent-revoked/);
    await shot(page, 'account-agent-revoked');
    await context.close();

    const refused = await callToolWith(mcp.url, token, 'add', { a: 2, b: 3 }).then(
      () => assert.fail('the revoked agent’s call ran'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof StreamableHTTPError && refused.code === 401, String(refused));
  });
});

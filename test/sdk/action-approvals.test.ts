import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { argumentsSha256 } from '../../packages/protocol/src/index.ts';
import { AgentAuthClient } from '../../packages/sdk/src/agent/index.ts';
import { actionApprovalRequired, callToolWithActionToken } from '../../packages/sdk/src/mcp/client/index.ts';
import { createToolCallReporter, type ToolCallReporter } from '../../packages/sdk/src/mcp/server.ts';
import { basicAuth, decodeJwt, registerAgentAndResource, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { Browser, createUser, inputValue, PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';
import { callToolWith, startToolsMcpServer, type ToolsMcpServer } from '../helpers/tools-mcp.ts';

/**
 * Issue 12 items 4 and 7, end to end over real HTTP on both stores: an MCP server built with the unmodified MCP
 * TypeScript SDK behind `createMcpAuth` marks `run_command` as approved per action; the agent's call is refused
 * with `action_approval_required`; the agent asks (CIBA with an RFC 9396 `mcp_tool` detail, through
 * `AgentAuthClient.requestToolCallApproval`); an approver approves that single call through the admin API; the
 * agent's call with the single-use token runs, the second identical call is refused, a call with other arguments
 * is refused. Every call is reported to the audit trail by the adapter's tool-call reporter.
 */

forEachStore('per-action approvals and tool-call audit through the SDK’s MCP adapter', (fixture) => {
  let server: TestServer;
  let agent: { clientId: string; clientSecret: string; apiKey: string };
  let approverToken: string;
  let userId: string;
  let mcp: ToolsMcpServer;
  let reporter: ToolCallReporter;
  const resource = 'https://tools.example.com/mcp';
  let ran: string[] = [];

  before(async () => {
    server = await startTestServer(fixture);
    agent = await registerAgentAndResource(server, { scopes: ['calc', 'exec'], audiences: [resource] }, resource);
    const resourceId = ((await (await server.admin('GET', '/resources')).json()) as { resources: { id: string; resource: string }[] }).resources.find((r) => r.resource === resource)!.id;
    assert.equal((await server.admin('PUT', `/resources/${resourceId}/tools/run_command`, { per_action_approval: true, risk: 'critical' })).status, 200);
    // The point here is the per-action approval: the agent holds `exec` (high risk, approval by default) without one.
    assert.equal((await server.admin('PUT', `/resources/${resourceId}/policies/exec`, { policy: 'user_consent' })).status, 200);
    userId = await createUser(server, 'ada-actions@example.com');
    await createUser(server, 'approver-actions@example.com', { roles: ['approver'] });
    const minted = await server.admin('POST', '/admin-tokens', { name: 'approver', role: 'approver', user: 'approver-actions@example.com' });
    approverToken = ((await minted.json()) as { token: string }).token;

    reporter = createToolCallReporter({ issuer: server.issuer, apiKey: agent.apiKey, flushIntervalMs: 3_600_000 });
    mcp = await startToolsMcpServer({ issuer: server.issuer, resource, apiKey: agent.apiKey, clock: server.clock.nowMs, toolCalls: reporter });
    ran = mcp.ran;
  });
  after(async () => {
    await reporter?.close();
    await mcp?.close();
    await server?.close();
  });

  async function agentToken(): Promise<string> {
    const response = await server.postForm('/token', { grant_type: 'client_credentials', scope: 'calc exec', resource }, { authorization: basicAuth(agent.clientId, agent.clientSecret) });
    assert.equal(response.status, 200, await response.clone().text());
    return ((await response.json()) as { access_token: string }).access_token;
  }

  const callWith = (token: string, name: string, args: Record<string, unknown>) => callToolWith(mcp.url, token, name, args);

  /** Approves the pending request whose binding message is `binding`, as the approver (its fresh sign-in aside: see below). */
  async function decide(binding: string, decision: 'approve' | 'deny'): Promise<void> {
    const list = (await (await fetch(`${server.issuer}/admin/v1/approvals?status=pending`, { headers: { authorization: `Bearer ${approverToken}` } })).json()) as {
      approvals: { id: string; justification: string; risk: string; authorization_details?: unknown }[];
    };
    const pending = list.approvals.find((a) => a.justification === binding)!;
    assert.ok(pending.authorization_details, 'the approver sees the one call asked for');
    const response = await fetch(`${server.issuer}/admin/v1/approvals/${pending.id}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${approverToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision, reason: 'checked the command' }),
    });
    assert.equal(response.status, 200, await response.clone().text());
  }

  /** An agent whose CIBA polls wait on the test: the first wait lets the approver decide, then the clock moves on. */
  function agentAskingApproval(binding: string, decision: 'approve' | 'deny' = 'approve'): AgentAuthClient {
    let decided = false;
    return new AgentAuthClient({
      issuer: server.issuer,
      clientId: agent.clientId,
      clientSecret: agent.clientSecret,
      clock: server.clock.nowMs,
      // Polling, so that the approver decides in the first wait (the events stream is tested in request-approval.test.ts).
      approvalEvents: false,
      sleep: async (ms) => {
        server.clock.advance(ms / 1000);
        if (!decided) {
          decided = true;
          await decide(binding, decision);
        }
      },
    });
  }

  test('acceptance: an approver approves a single run_command call and the second identical call is refused', async () => {
    const args = { command: 'ls -la /srv' };
    // Without an approval: refused at the HTTP layer, naming what to ask for.
    const refused = await callWith(await agentToken(), 'run_command', args).then(
      () => assert.fail('ran without approval'),
      (err: unknown) => err,
    );
    assert.ok(refused instanceof StreamableHTTPError && refused.code === 403, String(refused));
    const details = actionApprovalRequired(refused);
    assert.deepEqual(details, [{ type: 'mcp_tool', tool: 'run_command', arguments_sha256: argumentsSha256(args), locations: [resource] }]);

    // The approver signs in afresh (the tool's risk is critical), then the agent asks and the approver approves.
    await freshSignIn();
    const client = agentAskingApproval('Run ls -la /srv');
    const pending = await client.requestToolCallApproval({ loginHint: 'ada-actions@example.com', resource, tool: 'run_command', arguments: args, scope: 'exec', bindingMessage: 'Run ls -la /srv' });
    const tokens = await pending.tokens;
    assert.deepEqual(tokens.raw['authorization_details'], details, 'RFC 9396 §7: the token response returns the granted details');
    assert.equal(decodeJwt(tokens.accessToken).payload['sub'], userId);

    const first = await callToolWithActionToken({ url: mcp.url, token: tokens.accessToken, name: 'run_command', arguments: args });
    assert.deepEqual((first as { content: { text: string }[] }).content[0]!.text, 'ran ls -la /srv');
    const second = await callToolWithActionToken({ url: mcp.url, token: tokens.accessToken, name: 'run_command', arguments: args }).then(
      () => assert.fail('the single-use token ran twice'),
      (err: unknown) => err,
    );
    assert.ok(second instanceof StreamableHTTPError && second.code === 401, String(second));
    assert.match(second.message, /invalid_token.*already used/);
    assert.deepEqual(ran, ['ls -la /srv'], 'the tool ran exactly once');
  });

  test('other arguments, or another tool, with an approved token are refused and leave it unspent', async () => {
    await freshSignIn();
    const client = agentAskingApproval('Run uptime');
    const pending = await client.requestToolCallApproval({ loginHint: 'ada-actions@example.com', resource, tool: 'run_command', arguments: { command: 'uptime' }, scope: 'exec calc', bindingMessage: 'Run uptime' });
    const { accessToken } = await pending.tokens;
    const other = await callToolWithActionToken({ url: mcp.url, token: accessToken, name: 'run_command', arguments: { command: 'rm -rf /' } }).catch((err: unknown) => err);
    assert.ok(other instanceof StreamableHTTPError && other.code === 403, String(other));
    assert.match(other.message, /other arguments/);
    const add = await callToolWithActionToken({ url: mcp.url, token: accessToken, name: 'add', arguments: { a: 1, b: 2 } }).catch((err: unknown) => err);
    assert.ok(add instanceof StreamableHTTPError && add.code === 403, 'an action token is good for its action only');
    const approved = await callToolWithActionToken({ url: mcp.url, token: accessToken, name: 'run_command', arguments: { command: 'uptime' } });
    assert.equal((approved as { content: { text: string }[] }).content[0]!.text, 'ran uptime');
    assert.equal(await callWith(await agentToken(), 'add', { a: 2, b: 3 }), '5', 'a tool without per-action approval runs on the plain token');
  });

  test('a denial reaches the agent as access_denied; nothing runs', async () => {
    await freshSignIn();
    const client = agentAskingApproval('Run reboot', 'deny');
    const pending = await client.requestToolCallApproval({ loginHint: 'ada-actions@example.com', resource, tool: 'run_command', arguments: { command: 'reboot' }, scope: 'exec', bindingMessage: 'Run reboot' });
    await assert.rejects(pending.tokens, (err: { error?: string }) => err.error === 'access_denied');
    assert.ok(!ran.includes('reboot'));
  });

  test('item 7: the adapter reported every call (allowed and refused, with why) to the audit trail, with the arguments’ hash only', async () => {
    await reporter.flush();
    assert.equal(reporter.pending, 0);
    await server.context.audit.flush();
    const rows = (await (await server.admin('GET', `/audit?event=tool.call&tool=run_command&order=asc`)).json()) as {
      events: { actor: string; subject: string; client_id: string; detail: { tool: string; arguments_sha256: string; decision: string; reason?: string; duration_ms: number; chain: string[] } }[];
    };
    const seen = rows.events.map((e) => [e.detail.decision, e.detail.arguments_sha256 === argumentsSha256({ command: 'ls -la /srv' }) ? 'ls' : e.detail.arguments_sha256 === argumentsSha256({ command: 'uptime' }) ? 'uptime' : 'other', (e.detail.reason ?? '').split(':')[0]]);
    assert.deepEqual(seen, [
      ['refused', 'ls', 'ERR_ACTION_NOT_APPROVED'],
      ['allowed', 'ls', ''],
      ['refused', 'ls', 'ERR_ACTION_TOKEN_USED'],
      ['refused', 'other', 'ERR_ACTION_NOT_APPROVED'],
      ['allowed', 'uptime', ''],
    ]);
    assert.ok(rows.events.every((e) => e.actor === resource && !JSON.stringify(e.detail).includes('ls -la')), 'no arguments in the audit trail');
    assert.equal(rows.events[1]!.subject, userId);
    assert.equal(rows.events[1]!.client_id, agent.clientId);
    const bySubject = (await (await server.admin('GET', `/audit?event=tool.call&subject=${userId}&tool=add`)).json()) as { events: { detail: { decision: string } }[] };
    assert.deepEqual(bySubject.events.map((e) => e.detail.decision), ['refused'], 'the action token’s call of add');
  });

  test('item 7: reporting never blocks a call; a failed report stays queued and is retried', async () => {
    let failNext = true;
    const flaky = createToolCallReporter({
      issuer: server.issuer,
      apiKey: agent.apiKey,
      flushIntervalMs: 3_600_000,
      fetch: async (input, init) => {
        if (String(input).endsWith('/tool-calls') && failNext) {
          failNext = false;
          throw new TypeError('fetch failed');
        }
        return fetch(input, init);
      },
    });
    const event = { subject: 'usr_x', chain: [], tool: 'flaky_tool', argumentsSha256: argumentsSha256({}), decision: 'allowed' as const, durationMs: 1 };
    flaky.report(event);
    assert.equal(flaky.pending, 1, 'report returns at once');
    await assert.rejects(flaky.flush());
    assert.equal(flaky.pending, 1, 'kept for the retry');
    await flaky.flush();
    assert.equal(flaky.pending, 0);
    await flaky.close();
    await server.context.audit.flush();
    const rows = (await (await server.admin('GET', '/audit?event=tool.call&tool=flaky_tool')).json()) as { events: unknown[] };
    assert.equal(rows.events.length, 1, 'sent once, after the retry');

    const bounded = createToolCallReporter({ issuer: server.issuer, apiKey: agent.apiKey, flushIntervalMs: 3_600_000, maxQueue: 2 });
    for (let i = 0; i < 5; i++) bounded.report({ ...event, tool: `bounded_${i}` });
    assert.deepEqual([bounded.pending, bounded.dropped], [2, 3], 'the oldest are dropped beyond maxQueue');
    await bounded.close();
  });

  /** A critical approval needs the approver's fresh sign-in: the password login page, as a browser does it. */
  async function freshSignIn(): Promise<void> {
    const browser = new Browser();
    const page = await (await browser.fetch(`${server.issuer}/login`)).text();
    const login = await browser.postForm(`${server.issuer}/login`, { csrf: inputValue(page, 'csrf'), return_to: inputValue(page, 'return_to'), email: 'approver-actions@example.com', password: PASSWORD });
    assert.equal(login.status, 303);
  }
});

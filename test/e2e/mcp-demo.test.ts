import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sampleSandboxDir } from '../../examples/mcp-server/src/default-sandbox.ts';
import { type FakeChatCompletions, startFakeChatCompletions } from '../../examples/agent/test/helpers/fake-chat-completions.ts';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { forEachStore } from '../../packages/server/test/helpers/stores.ts';
import { ensureDemoResource } from '../../scripts/demo-resource.ts';
import { type AgentEvent, type McpServerProcess, runAgent, startInteractiveAgent, startMcpServerProcess } from '../helpers/demo-processes.ts';
import { createUserAndApp, exchangeToken, onBehalfOfToken } from '../helpers/obo-flow.ts';
import { mandateEnv, runCliJson, type ServerProcess, startServerProcess } from '../helpers/processes.ts';
import { JWS_ALGORITHMS } from '@mandate/protocol';

/** What a 401 without credentials offers next to Bearer (RFC 9449 §7.1): the resource accepts DPoP. */
const DPOP_OFFER = `DPoP algs="${JWS_ALGORITHMS.join(' ')}"`;

/**
 * The demo end to end, every part its own process: `mandate serve`, the demo MCP server (introspection mode), and
 * the demo agent; set up through the CLI (and the admin API for risk levels) as `npm start` does.
 */

interface Credentials {
  client_id: string;
  client_secret: string;
}

function postForm(url: string, agent: Credentials, form: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form),
  });
}

/** RFC 7009 revocation, as the agent (the token's client). */
const revoke = (issuer: string, agent: Credentials, token: string) => postForm(`${issuer}/revoke`, agent, { token });

async function agentToken(issuer: string, agent: Credentials, scope: string, resource: string): Promise<string> {
  const response = await postForm(`${issuer}/token`, agent, { grant_type: 'client_credentials', scope, resource });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { access_token: string }).access_token;
}

/** One JSON-RPC tools/call over Streamable HTTP (the server is stateless: no initialize needed). */
function callTool(url: string, token: string | undefined, name: string, args: Record<string, unknown> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  });
}

/** The text of a tools/call answer (JSON, as the demo server answers with enableJsonResponse). */
async function toolText(response: Response): Promise<string> {
  assert.equal(response.status, 200);
  const body = (await response.json()) as { result: { content: { text: string }[]; isError?: boolean } };
  assert.notEqual(body.result.isError, true, JSON.stringify(body));
  return body.result.content.map((c) => c.text).join('');
}

const step = (events: AgentEvent[], tool: string) => events.find((e) => e.event === 'step' && e['tool'] === tool)?.['outcome'] as Record<string, unknown> | undefined;

forEachStore('demo: AS, MCP server and agent as separate processes', (fixture) => {
  let env: NodeJS.ProcessEnv;
  let as: ServerProcess;
  let mcp: McpServerProcess;
  let resource: string;
  let metadataUrl: string;
  let agent: Credentials;
  let sandbox: string;
  const extra: { stop(): Promise<unknown> }[] = [];

  before(async () => {
    env = mandateEnv(fixture.url);
    sandbox = mkdtempSync(join(tmpdir(), 'mandate-e2e-sandbox-'));
    cpSync(sampleSandboxDir, sandbox, { recursive: true });
    as = await startServerProcess(await freePort(), env);
    const mcpPort = await freePort();
    resource = `http://localhost:${mcpPort}/mcp`;
    metadataUrl = `http://localhost:${mcpPort}/.well-known/oauth-protected-resource/mcp`;
    const { apiKey } = await ensureDemoResource(resource, env);
    agent = await runCliJson<Credentials>(['agent', 'create', '--name', 'e2e demo agent', '--scope', 'calc files:read', '--audience', resource], env);
    mcp = await startMcpServerProcess({
      ...env,
      MANDATE_ISSUER: as.issuer,
      MCP_PORT: String(mcpPort),
      MCP_VERIFY: 'introspection',
      MANDATE_RESOURCE_API_KEY: apiKey,
      MCP_SANDBOX_DIR: sandbox,
    });
  });
  after(async () => {
    for (const process of extra) await process.stop();
    await mcp?.stop();
    await as?.stop();
    rmSync(sandbox, { recursive: true, force: true });
  });

  const agentEnv = (credentials: Credentials) => ({ ...env, MANDATE_ISSUER: as.issuer, MCP_URL: resource, MANDATE_CLIENT_ID: credentials.client_id, MANDATE_CLIENT_SECRET: credentials.client_secret });

  test('MCP-RS-02 no token → 401 with WWW-Authenticate naming the metadata URL, which names the AS and the scopes', async () => {
    const response = await callTool(resource, undefined, 'whoami');
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), `Bearer scope="calc files:read", resource_metadata="${metadataUrl}", ${DPOP_OFFER}`);
    const metadata = (await (await fetch(metadataUrl)).json()) as Record<string, unknown>;
    assert.equal(metadata['resource'], resource);
    assert.deepEqual(metadata['authorization_servers'], [as.issuer]);
    assert.deepEqual(metadata['scopes_supported'], ['calc', 'files:read', 'files:write', 'exec']);
  });

  test('the resource is registered with its scopes and risk levels', async () => {
    const shown = await runCliJson<{ scopes: { name: string; risk: string }[] }>(['resource', 'show', resource], env);
    assert.deepEqual(
      shown.scopes.map((s) => [s.name, s.risk]),
      [['calc', 'low'], ['files:read', 'low'], ['files:write', 'medium'], ['exec', 'high']],
    );
  });

  test('the agent process runs its plan: whoami is the agent itself, files:read lists and reads, write_file → 403', async () => {
    const { code, events, stderr } = await runAgent([], agentEnv(agent));
    assert.equal(code, 0, `${JSON.stringify(events)}\n${stderr}`);
    assert.deepEqual(events.find((e) => e.event === 'token')?.['scope'], ['calc', 'files:read']);

    const whoami = step(events, 'whoami')?.['value'] as Record<string, unknown>;
    assert.equal(whoami['subject'], agent.client_id);
    assert.equal(whoami['agent'], agent.client_id);
    assert.equal(whoami['client_id'], agent.client_id);
    assert.equal(whoami['subject_profile'], 'ai_agent');
    assert.deepEqual(whoami['delegation_chain'], []);
    assert.deepEqual(whoami['audience'], [resource]);
    assert.equal(whoami['issuer'], as.issuer);

    assert.deepEqual(step(events, 'add')?.['value'], { sum: 5 });
    assert.deepEqual((step(events, 'list_files')?.['value'] as { entries: { name: string }[] }).entries.map((e) => e.name), ['hello.txt', 'notes']);
    assert.match(step(events, 'read_file')?.['text'] as string, /Hello from the Mandate demo MCP server/);
    assert.deepEqual(step(events, 'write_file'), {
      ok: false,
      kind: 'refused',
      status: 403,
      error: 'insufficient_scope',
      scope: 'files:write calc files:read',
      description: 'missing scope: files:write',
    });
    assert.equal(existsSync(join(sandbox, 'agent-notes.txt')), false);
    assert.equal(JSON.stringify(events).includes(agent.client_secret), false, 'the secret is never printed');
  });

  test('BR-03 a files:read token: list_files works, write_file → 403 insufficient_scope with scope and resource_metadata', async () => {
    const token = await agentToken(as.issuer, agent, 'files:read', resource);
    const listed = await callTool(resource, token, 'list_files', { path: 'notes' });
    assert.equal(listed.status, 200);
    assert.match(await listed.text(), /todo\.md/);
    const write = await callTool(resource, token, 'write_file', { path: 'x.txt', content: 'x' });
    assert.equal(write.status, 403);
    assert.equal(
      write.headers.get('www-authenticate'),
      `Bearer error="insufficient_scope", error_description="missing scope: files:write", scope="files:write files:read", resource_metadata="${metadataUrl}"`,
    );
  });

  test('introspection mode: a revoked token fails on its next call', async () => {
    const token = await agentToken(as.issuer, agent, 'calc', resource);
    assert.equal((await callTool(resource, token, 'add', { a: 1, b: 2 })).status, 200);
    assert.equal((await revoke(as.issuer, agent, token)).status, 200);
    const refused = await callTool(resource, token, 'add', { a: 1, b: 2 });
    assert.equal(refused.status, 401);
    assert.match(refused.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token", error_description="the token is not active"/);
  });

  test('introspection mode: a disabled agent’s next call fails; the MCP server refuses its token and the AS a new one', async () => {
    const second = await runCliJson<Credentials>(['agent', 'create', '--name', 'e2e agent to disable', '--scope', 'calc', '--audience', resource], env);
    const running = await startInteractiveAgent(['--scope', 'calc'], agentEnv(second));
    try {
      const before = await running.call('whoami');
      assert.equal(step(before, 'whoami')?.['ok'], true);
      await runCliJson(['agent', 'disable', second.client_id], env);
      const afterDisable = await running.call('add', { a: 1, b: 1 });
      assert.deepEqual(afterDisable.find((e) => e.event === 'token_rejected'), { event: 'token_rejected', description: 'the token is not active' });
      assert.deepEqual(step(afterDisable, 'add'), { ok: false, kind: 'token_refused', error: 'invalid_client', description: 'client authentication failed' });
    } finally {
      assert.equal(await running.end(), 0);
    }
  });

  test('local JWT mode, by contrast, keeps accepting a revoked token until it expires', async () => {
    // A second server for the same resource identifier, verifying locally only.
    const port = await freePort();
    extra.push(await startMcpServerProcess({ ...env, MANDATE_ISSUER: as.issuer, MCP_PORT: String(port), MCP_RESOURCE: resource, MCP_SANDBOX_DIR: sandbox }));
    const url = `http://localhost:${port}/mcp`;
    const token = await agentToken(as.issuer, agent, 'calc', resource);
    assert.equal((await revoke(as.issuer, agent, token)).status, 200);
    assert.equal((await callTool(url, token, 'add', { a: 1, b: 2 })).status, 200);
    assert.equal((await callTool(resource, token, 'add', { a: 1, b: 2 })).status, 401, 'the introspecting server refuses it');
  });

  test('whoami on behalf of a user: the user is the subject, the agent the actor (OBO through login and consent)', async () => {
    const app = await createUserAndApp(env, 'ada@example.com', 'calc files:read', resource);
    const obo = await onBehalfOfToken(as.issuer, { app, agent, email: 'ada@example.com', scope: 'calc files:read', resource });
    const whoami = JSON.parse(await toolText(await callTool(resource, obo, 'whoami')));
    assert.match(whoami.subject, /^usr_/);
    assert.equal(whoami.subject_profile, null);
    assert.equal(whoami.agent, agent.client_id);
    assert.equal(whoami.client_id, app.client_id);
    assert.equal(whoami.acting_for_itself, false);
    assert.deepEqual(whoami.delegation_chain, [{ subject: agent.client_id, clientId: agent.client_id, subjectProfile: 'ai_agent' }]);
  });

  test('whoami through a hand-off: user → planner → researcher, the whole chain; disabling the user stops it', async () => {
    const researcher = await runCliJson<Credentials>(['agent', 'create', '--name', 'e2e researcher', '--scope', 'calc files:read', '--audience', resource], env);
    const obo = await onBehalfOfToken(as.issuer, { app: await createUserAndApp(env, 'grace@example.com', 'calc', resource), agent, email: 'grace@example.com', scope: 'calc', resource });
    const handOff = await exchangeToken(as.issuer, agent, obo, { audience: researcher.client_id });
    const derived = await exchangeToken(as.issuer, researcher, handOff, { resource });
    const whoami = JSON.parse(await toolText(await callTool(resource, derived, 'whoami')));
    assert.match(whoami.subject, /^usr_/);
    assert.equal(whoami.agent, researcher.client_id, 'the current actor');
    assert.deepEqual(
      whoami.delegation_chain.map((a: { subject: string }) => a.subject),
      [researcher.client_id, agent.client_id],
    );
    assert.deepEqual(whoami.scopes, ['calc']);
    assert.equal((await callTool(resource, derived, 'add', { a: 1, b: 1 })).status, 200);
    await runCliJson(['user', 'disable', 'grace@example.com'], env);
    assert.equal((await callTool(resource, derived, 'add', { a: 1, b: 1 })).status, 401, 'every token derived from the user is inactive');
  });

  test('openai mode: the agent process follows the tool calls of a chat-completions endpoint (a local fake)', async () => {
    const fake: FakeChatCompletions = await startFakeChatCompletions((request, index) => {
      if (index === 0) return { toolCalls: [{ name: 'whoami', arguments: {} }, { name: 'list_files', arguments: { path: '.' } }] };
      if (index === 1) return { toolCalls: [{ name: 'write_file', arguments: { path: 'from-model.txt', content: 'hi' } }] };
      const results = request.body.messages.filter((m) => m.role === 'tool').map((m) => m.content ?? '');
      return { content: `I saw ${results.length} tool results; the last was: ${results.at(-1)}` };
    });
    extra.push({ stop: () => fake.close() });
    const { code, events, stderr } = await runAgent(['--mode', 'openai', '--prompt', 'look around'], {
      ...agentEnv(agent),
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'sk-fake',
      MANDATE_AGENT_MODEL: 'fake-model',
    });
    assert.equal(code, 0, `${JSON.stringify(events)}\n${stderr}`);
    assert.deepEqual(events.filter((e) => e.event === 'step').map((e) => [e['tool'], (e['outcome'] as { kind: string }).kind]), [
      ['whoami', 'result'],
      ['list_files', 'result'],
      ['write_file', 'refused'],
    ]);
    assert.equal(fake.requests.length, 3);
    assert.equal(fake.requests[0]?.authorization, 'Bearer sk-fake');
    assert.deepEqual(fake.requests[0]?.body.tools.map((t) => t.function.name).sort(), ['add', 'list_files', 'read_file', 'run_command', 'whoami', 'write_file']);
    assert.match(events.find((e) => e.event === 'answer')?.['content'] as string, /^I saw 3 tool results; the last was: refused by the MCP server: HTTP 403 insufficient_scope/);
  });
});

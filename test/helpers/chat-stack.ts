import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChatServer, type RunningChatServer } from '../../examples/chat/src/chat-server.ts';
import type { ChatAgent } from '../../examples/chat/src/conversation.ts';
import { sampleSandboxDir } from '../../examples/mcp-server/src/default-sandbox.ts';
import { Sandbox } from '../../examples/mcp-server/src/sandbox.ts';
import { demoScopes } from '../../examples/mcp-server/src/scopes.ts';
import { type RunningDemoServer, startDemoMcpServer } from '../../examples/mcp-server/src/server.ts';
import { freePort, startTestServer, type TestServer } from '../../packages/server/test/helpers/server.ts';
import type { StoreFixture } from '../../packages/server/test/helpers/stores.ts';
import { PROCESS_TIMEOUT_MS } from './processes.ts';
import { createApp, createUser } from '../../packages/server/test/helpers/user-flow.ts';

/**
 * examples/chat in this process in front of the real stack: the authorization server (frozen clock) on the
 * fixture's store, the demo MCP server with its scopes registered as `npm start` registers them, a user (Ada) and
 * an approver, the chat's agent and application, and the chat server. `exec` waits for an approver
 * (`admin_approval`) and `files:write` is refused by a `deny` policy, so the chat meets both.
 *
 * CIBA polls wait on `polls`: the chat's agent polls only once the test opens them (after an approver decided),
 * and each poll moves the AS clock past the interval, so no poll meets `slow_down` and no test waits for a timer.
 */
export interface ChatStack {
  server: TestServer;
  mcp: RunningDemoServer;
  chat: RunningChatServer;
  agentId: string;
  users: { ada: string; approver: string };
  ids: { ada: string; approver: string };
  polls: { open(): void; close(): void };
  stop(): Promise<void>;
}

export async function startChatStack(fixture: Pick<StoreFixture, 'url'>, brain: ChatAgent, mode = 'offline rules'): Promise<ChatStack> {
  const server = await startTestServer(fixture);
  const sandboxDir = mkdtempSync(join(tmpdir(), 'mandate-chat-sandbox-'));
  cpSync(sampleSandboxDir, sandboxDir, { recursive: true });
  const mcpPort = await freePort();
  const resource = `http://localhost:${mcpPort}/mcp`;
  const mcp = await startDemoMcpServer(
    { issuer: server.issuer, host: '127.0.0.1', port: mcpPort, resource, verify: { mode: 'jwt' }, sandboxDir },
    { sandbox: await Sandbox.open(sandboxDir) },
  );
  const created = await server.admin('POST', '/resources', { resource, name: 'Mandate demo MCP server', scopes: demoScopes.map(({ name, risk, description }) => ({ name, risk, description })) });
  if (created.status !== 201) throw new Error(`resource: ${created.status} ${await created.text()}`);
  const resourceId = ((await created.json()) as { id: string }).id;
  for (const [scope, policy] of [['exec', 'admin_approval'], ['files:write', 'deny']]) {
    const set = await server.admin('PUT', `/resources/${resourceId}/policies/${encodeURIComponent(scope!)}`, { policy });
    if (set.status !== 200) throw new Error(`policy ${scope}: ${set.status} ${await set.text()}`);
  }
  const users = { ada: 'ada@example.com', approver: 'alan@example.com' };
  const ids = { ada: await createUser(server, users.ada), approver: await createUser(server, users.approver, { roles: ['approver'], name: 'Alan Approver' }) };
  const agentResponse = await server.admin('POST', '/agents', { name: 'Chat demo agent', scopes: ['calc', 'files:read', 'files:write', 'exec'], audiences: [resource] });
  if (agentResponse.status !== 201) throw new Error(`agent: ${agentResponse.status} ${await agentResponse.text()}`);
  const agent = (await agentResponse.json()) as { client_id: string; client_secret: string };
  const chatPort = await freePort();
  const app = await createApp(server, { name: 'Demo chat', redirect_uris: [`http://127.0.0.1:${chatPort}/callback`], scopes: ['calc', 'files:read'], audiences: [resource] });

  let open = false;
  let waiting: (() => void)[] = [];
  const polls = {
    open() {
      open = true;
      for (const wake of waiting.splice(0)) wake();
    },
    close() {
      open = false;
    },
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        server.clock.advance(ms / 1000);
        resolve();
      };
      if (open) wake();
      else waiting.push(wake);
    });

  const chat = await startChatServer({
    issuer: server.issuer,
    mcpUrl: resource,
    agent: { clientId: agent.client_id, clientSecret: agent.client_secret },
    app: { clientId: app.clientId, clientSecret: app.clientSecret! },
    scope: 'calc files:read',
    brain,
    mode,
    port: chatPort,
    clock: server.clock.nowMs,
    sleep,
  });
  return {
    server,
    mcp,
    chat,
    agentId: agent.client_id,
    users,
    ids,
    polls,
    async stop() {
      waiting = [];
      await chat.close();
      await mcp.close();
      await server.close();
      rmSync(sandboxDir, { recursive: true, force: true });
    },
  };
}

/** The chat page's event stream as its script reads it, for tests without a browser. */
export interface FollowedTranscript {
  /** Resolves with the first entry's HTML matching `pattern`, once the stream has shown it. */
  entry(pattern: RegExp): Promise<string>;
  stop(): void;
}

export async function followTranscript(jar: { fetch(url: string, init?: RequestInit): Promise<Response> }, chatUrl: string): Promise<FollowedTranscript> {
  const shown = new Map<number, string>();
  let wake: (() => void) | undefined;
  const abort = new AbortController();
  const stream = await jar.fetch(`${chatUrl}events?after=0`, { signal: abort.signal });
  void (async () => {
    let buffer = '';
    for await (const chunk of stream.body!.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 2);
        if (data) {
          const entry = JSON.parse(data) as { id: number; html: string };
          shown.set(entry.id, entry.html);
          wake?.();
        }
      }
    }
  })().catch(() => {});
  return {
    async entry(pattern) {
      // Woken by each event; the limit is only for an entry that never comes (the test then fails instead of hanging).
      let timedOut = false;
      const limit = setTimeout(() => {
        timedOut = true;
        wake?.();
      }, PROCESS_TIMEOUT_MS);
      try {
        for (;;) {
          const found = [...shown.values()].find((html) => pattern.test(html));
          if (found !== undefined) return found;
          if (timedOut) throw new Error(`no entry matching ${pattern} within ${PROCESS_TIMEOUT_MS / 1000} s; shown: ${[...shown.values()].join('\n')}`);
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        clearTimeout(limit);
      }
    },
    stop: () => abort.abort(),
  };
}

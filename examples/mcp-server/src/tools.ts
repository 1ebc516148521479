import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { getAuthInfo, type McpAuth } from '@mandate/sdk/mcp/server';
import { z } from 'zod';
import { CommandRefused, runAllowedCommand } from './run-command.ts';
import { type Sandbox, SandboxError } from './sandbox.ts';
import { toolScopes } from './scopes.ts';

export interface ToolDeps {
  sandbox: Sandbox;
  /** Limits of run_command. */
  commandTimeoutMs?: number;
  commandMaxOutputBytes?: number;
}

const json = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] });

/**
 * A refusal the caller should read (a path outside the sandbox, a command off the allow-list) becomes `isError`
 * with its message. Anything else is logged here and answered without its message, which may name the server's
 * own paths (SR-14).
 */
async function refusalsAsErrors(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof SandboxError || err instanceof CommandRefused) return { isError: true, content: [{ type: 'text', text: err.message }] };
    console.error('tool failed:', err);
    return { isError: true, content: [{ type: 'text', text: 'the tool failed on the server' }] };
  }
}

/**
 * Registers the demo tools, each with the scopes of {@link toolScopes}. The scope check itself is `mcpAuth`'s: a
 * token without a tool's scopes gets HTTP 403 `insufficient_scope` before the handler runs.
 */
export function registerDemoTools(server: McpServer, mcpAuth: McpAuth, deps: ToolDeps): void {
  const { sandbox } = deps;

  mcpAuth.registerTool(
    server,
    'add',
    {
      scopes: toolScopes.add,
      description: 'Adds two numbers.',
      inputSchema: { a: z.number().describe('first addend'), b: z.number().describe('second addend') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ a, b }) => json({ sum: a + b }),
  );

  mcpAuth.registerTool(
    server,
    'whoami',
    {
      scopes: toolScopes.whoami,
      description: 'Who is calling: the subject of the token, the agent, and the whole delegation chain (current actor first).',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (extra) => {
      const auth = getAuthInfo(extra);
      // Never echo auth.token: it is the caller's credential (and MCP-RS-04 forbids passing it on).
      return json({
        subject: auth.subject,
        subject_profile: auth.subjectProfile ?? null,
        agent: auth.agentId ?? null,
        client_id: auth.clientId,
        acting_for_itself: auth.actors.length === 0,
        delegation_chain: auth.actors,
        scopes: auth.scopes,
        audience: auth.audience,
        issuer: auth.issuer,
        expires_at: new Date(auth.expiresAt * 1000).toISOString(),
      });
    },
  );

  mcpAuth.registerTool(
    server,
    'list_files',
    {
      scopes: toolScopes.list_files,
      description: 'Lists a directory of the sandbox. Paths are relative to the sandbox root.',
      inputSchema: { path: z.string().default('.').describe('directory, relative to the sandbox root') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ path }) => refusalsAsErrors(async () => json(await sandbox.list(path))),
  );

  mcpAuth.registerTool(
    server,
    'read_file',
    {
      scopes: toolScopes.read_file,
      description: 'Reads a UTF-8 text file of the sandbox.',
      inputSchema: { path: z.string().describe('file, relative to the sandbox root') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ path }) => refusalsAsErrors(async () => ({ content: [{ type: 'text', text: await sandbox.read(path) }] })),
  );

  mcpAuth.registerTool(
    server,
    'write_file',
    {
      scopes: toolScopes.write_file,
      description: 'Creates or replaces a text file in the sandbox.',
      inputSchema: { path: z.string().describe('file, relative to the sandbox root'), content: z.string().describe('the whole new content') },
      annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    async ({ path, content }) => refusalsAsErrors(async () => json({ written: await sandbox.write(path, content) })),
  );

  mcpAuth.registerTool(
    server,
    'run_command',
    {
      scopes: toolScopes.run_command,
      description: 'Runs one allow-listed command (date, echo, uname, uptime, whoami, ls) in the sandbox, without a shell.',
      inputSchema: { command: z.string().describe('e.g. "date -u" or "ls -l notes"') },
      annotations: { destructiveHint: false, openWorldHint: false },
    },
    async ({ command }) =>
      refusalsAsErrors(async () =>
        json(await runAllowedCommand(command, { sandbox, timeoutMs: deps.commandTimeoutMs, maxOutputBytes: deps.commandMaxOutputBytes })),
      ),
  );
}

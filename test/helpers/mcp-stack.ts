import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleSandboxDir } from '../../examples/mcp-server/src/default-sandbox.ts';
import { freePort } from '../../packages/server/test/helpers/server.ts';
import { PASSWORD } from '../../packages/server/test/helpers/user-flow.ts';
import { ensureDemoResource } from '../../scripts/demo-resource.ts';
import { type McpServerProcess, startMcpServerProcess } from './demo-processes.ts';
import { mandateEnv, runCli, runCliJson, type ServerProcess, startServerProcess } from './processes.ts';

/** `mandate serve` and the demo MCP server as processes, set up as `npm start` sets them up, with one user. */
export interface McpStack {
  env: NodeJS.ProcessEnv;
  as: ServerProcess;
  mcp: McpServerProcess;
  /** The user's email (password `PASSWORD`) and id. */
  email: string;
  userId: string;
  stop(): Promise<void>;
}

/**
 * Starts the stack on the (empty) database `databaseUrl`: the AS with default settings plus `extraEnv`, the demo resource
 * registered through the CLI (scopes, risk levels), a user, and the demo MCP server in its own sandbox (jwt mode).
 * No client of any kind is registered: MCP hosts bring their own registration.
 */
export async function startMcpStack(databaseUrl: string, email: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<McpStack> {
  const sandbox = mkdtempSync(join(tmpdir(), 'mandate-mcp-stack-sandbox-'));
  const started: { stop(): Promise<unknown> }[] = [];
  const stop = async () => {
    for (const process of started.reverse()) await process.stop();
    rmSync(sandbox, { recursive: true, force: true });
  };
  try {
    cpSync(sampleSandboxDir, sandbox, { recursive: true });
    const env = { ...mandateEnv(databaseUrl), ...extraEnv };
    const as = await startServerProcess(await freePort(), env);
    started.push(as);
    const mcpPort = await freePort();
    await ensureDemoResource(`http://localhost:${mcpPort}/mcp`, env);
    await runCli(['user', 'create', '--email', email], env, `${PASSWORD}\n`);
    const userId = (await runCliJson<{ id: string }>(['user', 'show', email], env)).id;
    const mcp = await startMcpServerProcess({ ...env, MANDATE_ISSUER: as.issuer, MCP_PORT: String(mcpPort), MCP_SANDBOX_DIR: sandbox });
    started.push(mcp);
    return { env, as, mcp, email, userId, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { demoScopes } from '../examples/mcp-server/src/scopes.ts';

/**
 * Registers the demo MCP server as a resource of the AS, once, and gets it an introspection API key on every start.
 * Everything goes through `mandate` commands and the admin API, as an operator would: `resource create` cannot set
 * risk levels, so a first start makes a short-lived admin token, creates the resource with its scopes and risks
 * through `POST /admin/v1/resources`, and revokes the token again.
 */

const CLI = fileURLToPath(new URL('../packages/server/bin/run-cli.ts', import.meta.url));

export class CliError extends Error {
  readonly status: number | null;
  readonly stderr: string;
  constructor(args: string[], status: number | null, stderr: string) {
    super(`mandate ${args.join(' ')} exited ${status}: ${stderr.trim()}`);
    this.status = status;
    this.stderr = stderr;
  }
}

/**
 * Runs `mandate <args> --json -- <positionals>` and parses its output. The `--` lets an id that begins with `-`
 * (admin-token ids may) pass as a positional.
 */
export function mandateJson<T>(args: string[], positionals: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--json', '--', ...positionals], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(JSON.parse(stdout) as T) : reject(new CliError(args, status, stderr))));
  });
}

export interface DemoResource {
  /** True when this start registered it. */
  created: boolean;
  /** A fresh API key (`mrk_…`); the previous one stopped working. */
  apiKey: string;
}

/** `adminBaseUrl`: where the running AS answers, e.g. `http://localhost:8787`. */
export async function ensureDemoResource(resource: string, adminBaseUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<DemoResource> {
  try {
    const rotated = await mandateJson<{ api_key: string }>(['resource', 'rotate-key'], [resource], env);
    return { created: false, apiKey: rotated.api_key };
  } catch (err) {
    if (!(err instanceof CliError && err.status === 1 && err.stderr.includes('no resource'))) throw err;
  }
  const admin = await mandateJson<{ id: string; token: string }>(['admin-token', 'create', '--name', 'npm start: register the demo MCP server'], [], env);
  try {
    const response = await fetch(`${adminBaseUrl}/admin/v1/resources`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ resource, name: 'Mandate demo MCP server', scopes: demoScopes }),
    });
    if (response.status !== 201) throw new Error(`registering ${resource} failed: ${response.status} ${await response.text()}`);
    return { created: true, apiKey: ((await response.json()) as { api_key: string }).api_key };
  } finally {
    await mandateJson(['admin-token', 'revoke'], [admin.id], env);
  }
}

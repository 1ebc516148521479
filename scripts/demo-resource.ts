import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { demoScopes } from '../examples/mcp-server/src/scopes.ts';

/**
 * Registers the demo MCP server as a resource of the AS, once, with its scopes, risk levels, descriptions and policies, and
 * gets it an introspection API key on every start. Everything goes through `mandate` commands, as an operator would.
 */

const CLI = fileURLToPath(new URL('../packages/server/bin/mandate.js', import.meta.url));

export class CliError extends Error {
  readonly status: number | null;
  readonly stderr: string;
  constructor(args: string[], status: number | null, stderr: string) {
    super(`mandate ${args.join(' ')} exited ${status}: ${stderr.trim()}`);
    this.status = status;
    this.stderr = stderr;
  }
}

/** Runs `mandate <args> --json -- <positionals>` and parses its output. */
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

export async function ensureDemoResource(resource: string, env: NodeJS.ProcessEnv = process.env): Promise<DemoResource> {
  try {
    // --grace 0: the key of an earlier start belongs to no running server; nothing needs it to keep working.
    const rotated = await mandateJson<{ api_key: string }>(['resource', 'rotate-key', '--grace', '0'], [resource], env);
    return { created: false, apiKey: rotated.api_key };
  } catch (err) {
    if (!(err instanceof CliError && err.status === 1 && err.stderr.includes('no resource'))) throw err;
  }
  const created = await mandateJson<{ api_key: string }>(
    [
      'resource', 'create', '--uri', resource, '--name', 'Mandate demo MCP server',
      '--scope', demoScopes.map((s) => s.name).join(' '),
      ...demoScopes.flatMap((s) => ['--risk', `${s.name}=${s.risk}`, '--describe', `${s.name}=${s.description}`]),
    ],
    [],
    env,
  );
  for (const scope of demoScopes) {
    if (scope.policy) await mandateJson(['resource', 'policy', '--policy', scope.policy], [resource, scope.name], env);
  }
  return { created: true, apiKey: created.api_key };
}

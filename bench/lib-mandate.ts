import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_SCOPES, RESOURCE } from './lib-fixture.ts';
import { type ServerProcess, startServerProcess } from './lib-process.ts';

const CLI = fileURLToPath(new URL('../packages/server/bin/run-cli.ts', import.meta.url));

/**
 * The token endpoint's rate limits are set this high rather than to 0, so the limiter's bookkeeping still runs
 * on every request as it does in production, but never refuses one.
 */
export const MANDATE_RATE_LIMIT_PER_MINUTE = 1_000_000_000;

export interface MandateUnderTest {
  server: ServerProcess;
  clientId: string;
  clientSecret: string;
  /** The resource's introspection API key (`Authorization: Bearer mrk_…`). */
  apiKey: string;
  /** How it was configured, for the results file. */
  settings: Record<string, unknown>;
  /** Stops the server (a profile is written on the way out) and removes its temporary directory. */
  close(): Promise<void>;
}

export interface MandateStartOptions {
  core: number | null;
  /** Directory for a `--cpu-prof` profile, or null for none. */
  profileDir: string | null;
}

/**
 * Runs Mandate as an operator would: a fresh SQLite database in a temporary directory, the resource and the agent
 * created with the `mandate` CLI, then `mandate serve` in production mode with its defaults (ES256, the durable
 * audit trail committed before each response, synchronous=NORMAL). Only the rate limits are raised.
 */
export async function startMandate(options: MandateStartOptions): Promise<MandateUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const db = `sqlite:${join(dir, 'mandate.db')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    MANDATE_KEK_FILE: join(dir, 'kek'),
    MANDATE_RATE_LIMIT_CLIENT: String(MANDATE_RATE_LIMIT_PER_MINUTE),
    MANDATE_RATE_LIMIT_IP: String(MANDATE_RATE_LIMIT_PER_MINUTE),
  };
  const cli = (...args: string[]) => JSON.parse(execFileSync(process.execPath, [CLI, ...args, '--db', db, '--json'], { env, encoding: 'utf8' }));
  try {
    const resource = cli('resource', 'create', '--uri', RESOURCE, '--scope', AGENT_SCOPES.join(' '));
    const agent = cli('agent', 'create', '--name', 'bench-agent', '--scope', AGENT_SCOPES.join(' '), '--audience', RESOURCE);

    const profileArgs = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir, '--cpu-prof-interval', '1000'] : [];
    const server = await startServerProcess({
      label: 'mandate',
      args: [...profileArgs, CLI, 'serve', '--port', '0', '--db', db],
      env,
      core: options.core,
      readyUrl: (line) => /^Mandate authorization server on (\S+)/.exec(line)?.[1],
    });
    return {
      server,
      clientId: agent.client_id,
      clientSecret: agent.client_secret,
      apiKey: resource.api_key,
      settings: {
        store: 'SQLite (WAL, synchronous=NORMAL) in a fresh temporary directory',
        signing: 'ES256 (default)',
        audit: 'durable hash-chained audit trail, committed before each token response (default)',
        nodeEnv: 'production',
        rateLimits: `MANDATE_RATE_LIMIT_CLIENT = MANDATE_RATE_LIMIT_IP = ${MANDATE_RATE_LIMIT_PER_MINUTE}/min (limiter runs, never refuses)`,
        logLevel: 'info (default; no per-request lines)',
      },
      async close() {
        await server.stop();
        removeDir();
        process.off('exit', removeDir);
      },
    };
  } catch (err) {
    removeDir();
    process.off('exit', removeDir);
    throw err;
  }
}

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AGENT_SCOPES, RESOURCE } from './lib-fixture.ts';
import { BENCH_POSTGRES_URL, freshSchema, POOL_SIZE, postgresBackendCpu } from './lib-postgres.ts';
import { type ServerProcess, startServerProcess } from './lib-process.ts';

/** `mandate` as `npx mandate` and the container run it: bin/mandate.js, the TypeScript stripped once into a cache. */
const CLI = fileURLToPath(new URL('../packages/server/bin/mandate.js', import.meta.url));

/**
 * The token endpoint's rate limits are set this high rather than to 0, so the limiter's bookkeeping still runs
 * on every request as it does in production, but never refuses one.
 */
export const MANDATE_RATE_LIMIT_PER_MINUTE = 1_000_000_000;

export type StoreKind = 'sqlite' | 'postgres';

/** Runs a `mandate` CLI command against the benchmark's database and returns its `--json` output. */
export type MandateCli = (args: readonly string[], input?: string) => Record<string, string>;

export interface MandateUnderTest {
  /** The first instance; with several, `servers` has them all and `server.cpuSeconds` sums them (and PostgreSQL). */
  server: ServerProcess;
  servers: ServerProcess[];
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
  /** Default sqlite: a fresh file; postgres: a fresh schema in BENCH_POSTGRES_URL, dropped on close. */
  store?: StoreKind;
  /** `mandate serve` processes on the one database (postgres only); each gets `cores[i]`, else `core`. */
  instances?: number;
  cores?: readonly (number | null)[];
  /** More environment for `serve` (e.g. a raised registration rate limit). */
  env?: Record<string, string>;
  /** `serve` under this command (lib-flow-instructions.ts: valgrind), given up to 10 minutes to start. */
  wrapper?: readonly string[];
  /** Runs before `serve`, with the CLI on the same database: users, clients, policies a scenario needs. */
  setup?(cli: MandateCli): void;
}

/**
 * Runs Mandate as an operator would: a fresh database (SQLite file in a temporary directory, or a fresh
 * PostgreSQL schema), the resource and the agent created with the `mandate` CLI, then `mandate serve` in production
 * mode with its defaults (ES256, the durable audit trail committed before each response, synchronous=NORMAL).
 * Only the rate limits are raised.
 */
export async function startMandate(options: MandateStartOptions): Promise<MandateUnderTest> {
  const store = options.store ?? 'sqlite';
  const instances = options.instances ?? 1;
  if (instances > 1 && store !== 'postgres') throw new Error('several instances share one database only on PostgreSQL (--store postgres)');
  const dir = mkdtempSync(join(tmpdir(), 'mandate-bench-'));
  const schema = store === 'postgres' ? freshSchema() : null;
  const cleanUp = async () => {
    rmSync(dir, { recursive: true, force: true });
    await schema?.drop();
  };
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDir);
  const db = schema ? schema.url : `sqlite:${join(dir, 'mandate.db')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    // Every instance must decrypt the same signing keys.
    MANDATE_KEK: randomBytes(32).toString('base64url'),
    MANDATE_RATE_LIMIT_CLIENT: String(MANDATE_RATE_LIMIT_PER_MINUTE),
    MANDATE_RATE_LIMIT_IP: String(MANDATE_RATE_LIMIT_PER_MINUTE),
    ...options.env,
  };
  const cli: MandateCli = (args, input) =>
    JSON.parse(execFileSync(process.execPath, [CLI, ...args, '--db', db, '--json'], { env, encoding: 'utf8', ...(input === undefined ? {} : { input }) }));
  const started: ServerProcess[] = [];
  try {
    const resource = cli(['resource', 'create', '--uri', RESOURCE, '--scope', AGENT_SCOPES.join(' ')]);
    const agent = cli(['agent', 'create', '--name', 'bench-agent', '--scope', AGENT_SCOPES.join(' '), '--audience', RESOURCE]);
    options.setup?.(cli);

    const profileArgs = options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', options.profileDir, '--cpu-prof-interval', '1000'] : [];
    for (let i = 0; i < instances; i++) {
      started.push(
        await startServerProcess({
          label: instances > 1 ? `mandate-${i + 1}` : 'mandate',
          args: [...profileArgs, CLI, 'serve', '--port', '0', '--db', db],
          env,
          core: options.cores?.[i] ?? options.core,
          ...(options.wrapper ? { wrapper: options.wrapper, readyTimeoutMs: 600_000 } : {}),
          readyUrl: (line) => /^Mandate authorization server on (\S+)/.exec(line)?.[1],
        }),
      );
    }
    const first = started[0]!;
    const postgresCpuSeconds = schema ? postgresBackendCpu(() => started.map((s) => s.pid)) : () => 0;
    const server: ServerProcess =
      store === 'postgres' || instances > 1
        ? { pid: first.pid, url: first.url, cpuSeconds: () => started.reduce((n, s) => n + s.cpuSeconds(), 0) + postgresCpuSeconds(), rssBytes: () => started.reduce((n, s) => n + s.rssBytes(), 0), stop: () => Promise.all(started.map((s) => s.stop())).then(() => {}) }
        : first;
    return {
      server,
      servers: started,
      clientId: agent['client_id']!,
      clientSecret: agent['client_secret']!,
      apiKey: resource['api_key']!,
      settings: {
        store: schema
          ? `PostgreSQL (${BENCH_POSTGRES_URL}, fresh schema, pool ${POOL_SIZE} per instance); CPU per request includes the PostgreSQL backends serving it`
          : 'SQLite (WAL, synchronous=NORMAL) in a fresh temporary directory',
        instances,
        signing: 'ES256 (default)',
        audit: 'durable hash-chained audit trail, committed before each token response (default)',
        nodeEnv: 'production',
        rateLimits: `MANDATE_RATE_LIMIT_CLIENT = MANDATE_RATE_LIMIT_IP = ${MANDATE_RATE_LIMIT_PER_MINUTE}/min (limiter runs, never refuses)`,
        ...(options.env ? { env: options.env } : {}),
        logLevel: 'info (default; no per-request lines)',
      },
      async close() {
        await Promise.all(started.map((s) => s.stop()));
        await cleanUp();
        process.off('exit', removeDir);
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    await cleanUp();
    process.off('exit', removeDir);
    throw err;
  }
}

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startServerProcess } from './lib-process.ts';

/**
 * The resident memory of an idle `mandate serve` (issue 13 item 3): started as an operator starts it, on a fresh
 * SQLite database, answered nothing, read from /proc after it settled. Load-independent: neither the machine's other
 * work nor its speed changes what an idle process holds (only when it gets there, hence the settling time).
 */

const LAUNCHER = fileURLToPath(new URL('../packages/server/bin/mandate.js', import.meta.url));
const TYPESCRIPT_ENTRY = fileURLToPath(new URL('../packages/server/bin/run-cli.ts', import.meta.url));
const GC_ON_SIGNAL = fileURLToPath(new URL('./idle-gc-on-signal.mjs', import.meta.url));

export interface IdleRssOptions {
  /**
   * `launcher`: bin/mandate.js, as `npx mandate` and the container run it (stripped JavaScript from its cache);
   * `typescript`: bin/run-cli.ts run directly, so Node strips the types itself (and loads its TypeScript parser).
   */
  entry?: 'launcher' | 'typescript';
  /** How long the server idles after announcing itself before the first reading. Default 5 s. */
  settleMs?: number;
  /** Extra environment (MANDATE_METRICS_PORT, say). */
  env?: NodeJS.ProcessEnv;
}

export interface IdleRss {
  entry: 'launcher' | 'typescript';
  /** VmRSS after settling, in MiB: what an operator sees. */
  settledMiB: number;
  /** Its anonymous part (heap, stacks) and its file-backed part (mostly the node binary's pages, shared). */
  settledAnonMiB: number;
  settledFileMiB: number;
  /**
   * VmRSS after one memory-reducing full GC (V8's last-resort collection, which also shrinks the young generation
   * start-up grew), in MiB: what the process needs, read through a diagnostic preload (`--expose-gc`), never in production.
   */
  afterGcMiB: number;
}

function residentMiB(pid: number): { rss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const mib = (k: number) => Math.round((k / 1024) * 10) / 10;
  return { rss: mib(kib('VmRSS')), anon: mib(kib('RssAnon')), file: mib(kib('RssFile')) };
}

/** Starts `mandate serve` in a temporary directory, reads its idle RSS, then after a diagnostic GC, and stops it. */
export async function measureIdleRss(options: IdleRssOptions = {}): Promise<IdleRss> {
  const entry = options.entry ?? 'launcher';
  const dir = mkdtempSync(join(tmpdir(), 'mandate-idle-rss-'));
  try {
    const server = await startServerProcess({
      label: 'mandate',
      args: ['--expose-gc', '--import', GC_ON_SIGNAL, entry === 'launcher' ? LAUNCHER : TYPESCRIPT_ENTRY, 'serve', '--port', '0', '--db', `sqlite:${join(dir, 'mandate.db')}`],
      env: { ...process.env, NODE_ENV: 'production', MANDATE_KEK_FILE: join(dir, 'kek'), ...options.env },
      core: null,
      readyUrl: (line) => /^Mandate authorization server on (\S+)/.exec(line)?.[1],
    });
    try {
      await sleep(options.settleMs ?? 5000);
      const settled = residentMiB(server.pid);
      process.kill(server.pid, 'SIGUSR2');
      // The GC is synchronous and takes milliseconds; the wait only lets the signal be handled.
      await sleep(1000);
      return { entry, settledMiB: settled.rss, settledAnonMiB: settled.anon, settledFileMiB: settled.file, afterGcMiB: residentMiB(server.pid).rss };
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// `node bench/lib-idle-rss.ts [runs]`: both entries, `runs` times each (default 3), as a table.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 3);
  process.stdout.write('| entry | settled RSS MiB (anon + file) | after GC MiB |\n|---|---|---|\n');
  for (const entry of ['launcher', 'typescript'] as const) {
    for (let i = 0; i < runs; i++) {
      const r = await measureIdleRss({ entry });
      process.stdout.write(`| ${entry} | ${r.settledMiB} (${r.settledAnonMiB} + ${r.settledFileMiB}) | ${r.afterGcMiB} |\n`);
    }
  }
}

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import type { BenchOptions } from './lib-options.ts';
import { CLOCK_TICKS_PER_SECOND } from './lib-process.ts';
import { wrkVersion } from './lib-wrk.ts';

/** The same core layout as perf-ceiling.md: every server on core 1, wrk (and this harness) on core 0. */
export const SERVER_CORE = 1;
export const LOAD_CORE = 0;

/** Busy time of one core from /proc/stat (everything except idle and iowait), in seconds. */
export function coreBusySeconds(core: number): number {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  if (!line) throw new Error(`no cpu${core} in /proc/stat`);
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLOCK_TICKS_PER_SECOND;
}

/** Pins the calling process (all its threads) to `core`, so the harness itself stays off the servers' core. */
function pinSelf(core: number): void {
  execFileSync('taskset', ['-a', '-p', '-c', String(core), String(process.pid)], { stdio: 'ignore' });
}

/** Checks that the machine can pin as asked, and keeps the harness itself off the servers' core. */
export function prepareMachine(options: BenchOptions): { serverCore: number | null } {
  wrkVersion();
  if (!options.pinned) return { serverCore: null };
  if (availableParallelism() < 2) {
    console.error('pinning needs at least 2 cores (one for the servers, one for wrk); run with --unpinned');
    process.exit(1);
  }
  pinSelf(LOAD_CORE);
  return { serverCore: SERVER_CORE };
}

/** Before each round, wait (up to this long) until neither core is busier than QUIET_CORE_BUSY over a second. */
const QUIET_WAIT_SECONDS = 300;
const QUIET_CORE_BUSY = 0.1;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until other processes leave both cores nearly idle; gives up after QUIET_WAIT_SECONDS and says so. */
export async function waitForQuiet(options: BenchOptions): Promise<void> {
  if (!options.pinned) return;
  const deadline = Date.now() + QUIET_WAIT_SECONDS * 1000;
  let said = false;
  for (;;) {
    const before = [coreBusySeconds(SERVER_CORE), coreBusySeconds(LOAD_CORE)];
    await sleep(1000);
    const busy = [coreBusySeconds(SERVER_CORE) - before[0]!, coreBusySeconds(LOAD_CORE) - before[1]!];
    if (busy.every((b) => b < QUIET_CORE_BUSY)) return;
    if (Date.now() > deadline) {
      console.log(`  the machine is still busy (${busy.map((b) => `${Math.round(b * 100)}%`).join(', ')}); measuring anyway`);
      return;
    }
    if (!said) console.log(`  waiting for other processes to leave the cores (busy ${busy.map((b) => `${Math.round(b * 100)}%`).join(', ')})…`);
    said = true;
  }
}

// A fixed piece of the servers' own work, timed in a child process on the servers' core.
const PROBE = `
import { generateKeyPairSync, sign } from 'node:crypto';
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const input = Buffer.alloc(500, 1);
const chunks = [];
for (let c = 0; c < 6; c++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) sign('sha256', input, privateKey);
  chunks.push(Number(process.hrtime.bigint() - start) / 1000 / 1000);
}
// The first chunk warms up; the median of the rest ignores a preempted one.
console.log(chunks.slice(1).sort((a, b) => a - b)[2]);`;

/**
 * µs per ES256 signature in a hot loop on `core` (about 0.2 s), the median of five batches. This VM's speed was seen to drift by a third within
 * an hour with no other load on it, so every round records the probe: compare rounds, and runs, only alongside it.
 */
export function probeSignMicroseconds(core: number | null): number {
  const node = [process.execPath, '--input-type=module', '-e', PROBE];
  const [command, ...args] = core === null ? node : ['taskset', '-c', String(core), ...node];
  return Number(execFileSync(command!, args, { encoding: 'utf8' }).trim());
}

/** What the results depend on: the CPU, the runtime and its crypto and SQLite, the file system SQLite writes to. */
export function machineInfo(): Record<string, unknown> {
  const git = (...args: string[]) => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return null;
    }
  };
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    openssl: process.versions.openssl,
    sqlite: process.versions['sqlite'],
    wrk: wrkVersion(),
    tmpFileSystem: execFileSync('stat', ['-f', '-c', '%T', tmpdir()], { encoding: 'utf8' }).trim(),
    loadAverageAtStart: loadavg(),
    mandateCommit: git('rev-parse', 'HEAD'),
    // Results written by earlier runs do not make the code under test a different one.
    workingTreeDirty: (git('status', '--porcelain', '--', '.', ':!bench/results') ?? '') !== '',
  };
}

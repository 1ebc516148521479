import { coreBusySeconds, LOAD_CORE, probeSignMicroseconds, SERVER_CORE, waitForQuiet } from './lib-machine.ts';
import type { BenchOptions, ServerName } from './lib-options.ts';
import type { ServerProcess } from './lib-process.ts';
import type { Window } from './lib-profile.ts';
import { type LoadRequest, runWrkOn, type WrkResult, writeWrkScript } from './lib-wrk.ts';

/** A server under test with the request the load generator sends it. */
export interface Contender {
  name: ServerName;
  /** What the tables call it when not its role's name (e.g. `jose` in the peer's place). */
  label?: string;
  server: ServerProcess;
  origin: string;
  /** Every instance's origin when there are several (the load is split between them); default [origin]. */
  origins?: readonly string[];
  /** The request to send in the next run; asked before each one, so tokens can be re-issued before they expire. */
  load(): Promise<LoadRequest>;
  settings: Record<string, unknown>;
  /** What the pre-load check verified on one response. */
  checked: Record<string, unknown>;
}

export interface RoundResult extends WrkResult {
  round: number;
  /** CPU the server process used, as a share of the wall time of the round (1 = one core saturated). */
  serverCpu: number;
  /** Server CPU per request, µs. */
  serverCpuUsPerRequest: number;
  /** Pinned runs: busy time of the server's core that the server did not use (other processes), as a share. */
  foreignCpuOnServerCore: number | null;
  /** Pinned runs: busy share of wrk's core, wrk included; near 1 means the load generator may have been starved. */
  loadCoreBusy: number | null;
  /** The machine-speed probe just before the round: µs per ES256 signature in a hot loop on the server's core. */
  probeSignUs: number;
  /** Another process took enough of either core to distort this round; it was run again. */
  disturbed: boolean;
  window: Window;
}

/** Other sessions share this machine: a round that lost more than this share of the server's core is repeated. */
const MAX_FOREIGN_ON_SERVER_CORE = 0.05;
const MAX_LOAD_CORE_BUSY = 0.9;
const RETRIES_WHEN_DISTURBED = 4;
export interface ContenderSummary {
  name: ServerName;
  label: string;
  requestsPerSecond: { median: number; min: number; max: number };
  latencyMs: { p50: number; p95: number; p99: number };
  serverCpuUsPerRequest: number;
  probeSignUs: number;
  non2xx: number;
  wrongBody: number;
  socketErrors: number;
  /** The server's resident set after the last round (several instances: their sum), MiB. */
  rssMiB?: number;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

async function measureRound(c: Contender, round: number, seconds: number, script: string, options: BenchOptions): Promise<RoundResult> {
  const probeSignUs = probeSignMicroseconds(options.pinned ? SERVER_CORE : null);
  const cpuBefore = c.server.cpuSeconds();
  const serverCoreBefore = options.pinned ? coreBusySeconds(SERVER_CORE) : 0;
  const loadCoreBefore = options.pinned ? coreBusySeconds(LOAD_CORE) : 0;
  const startUs = Number(process.hrtime.bigint() / 1000n);
  const result = await runWrkOn(c.origins ?? [c.origin], { script, seconds, connections: options.connections, core: options.pinned ? LOAD_CORE : null });
  const endUs = Number(process.hrtime.bigint() / 1000n);
  const wall = (endUs - startUs) / 1e6;
  const serverCpuSeconds = c.server.cpuSeconds() - cpuBefore;
  const foreign = options.pinned ? Math.max(0, coreBusySeconds(SERVER_CORE) - serverCoreBefore - serverCpuSeconds) / wall : null;
  const loadCoreBusy = options.pinned ? (coreBusySeconds(LOAD_CORE) - loadCoreBefore) / wall : null;
  return {
    round,
    ...result,
    serverCpu: serverCpuSeconds / wall,
    serverCpuUsPerRequest: (serverCpuSeconds * 1e6) / Math.max(1, result.units),
    foreignCpuOnServerCore: foreign,
    loadCoreBusy,
    probeSignUs,
    // On PostgreSQL the database's backends run on either core: a busy load core is then part of the work, not a disturbance.
    disturbed: (foreign ?? 0) > MAX_FOREIGN_ON_SERVER_CORE || (options.store !== 'postgres' && (loadCoreBusy ?? 0) > MAX_LOAD_CORE_BUSY),
    window: { startUs, endUs },
  };
}

/** A round, repeated while another process disturbs it (at most RETRIES_WHEN_DISTURBED times); returns every attempt, the kept one last. */
async function measureUndisturbed(c: Contender, round: number, script: () => Promise<string>, options: BenchOptions): Promise<RoundResult[]> {
  const attempts: RoundResult[] = [];
  for (let attempt = 0; attempt <= RETRIES_WHEN_DISTURBED; attempt++) {
    const path = await script();
    await waitForQuiet(options);
    const r = await measureRound(c, round, options.durationSeconds, path, options);
    attempts.push(r);
    console.log(`  round ${round}  ${(c.label ?? c.name).padEnd(14)} ${describe(r)}${r.disturbed ? (attempt < RETRIES_WHEN_DISTURBED ? '  disturbed: again' : '  disturbed: kept') : ''}`);
    if (!r.disturbed) break;
  }
  return attempts;
}

const describe = (r: RoundResult) =>
  `${Math.round(r.requestsPerSecond).toLocaleString('en-US').padStart(7)} req/s  p50 ${r.latencyMs.p50.toFixed(2)}  p95 ${r.latencyMs.p95.toFixed(2)}  p99 ${r.latencyMs.p99.toFixed(2)} ms` +
  `  cpu ${(r.serverCpu * 100).toFixed(0)}%${r.foreignCpuOnServerCore === null ? '' : ` (others ${(r.foreignCpuOnServerCore * 100).toFixed(1)}%, wrk core ${(r.loadCoreBusy! * 100).toFixed(0)}%)`}` +
  `  probe ${r.probeSignUs.toFixed(1)} µs` +
  (r.non2xx + r.wrongBody + r.socketErrors > 0 ? `  ERRORS non2xx=${r.non2xx} wrong=${r.wrongBody} socket=${r.socketErrors}` : '');

/**
 * Warm-up for each server, then `rounds` measured rounds, interleaved (the order alternates each round so a drift
 * in the machine's state does not favour one server). Prints each round as it ends.
 */
export async function runRounds(
  contenders: readonly Contender[],
  options: BenchOptions,
  dir: string,
): Promise<{ kept: Map<ServerName, RoundResult[]>; discarded: RoundResult[] }> {
  const written = new Map<ServerName, { load: LoadRequest; script: string }>();
  const scriptFor = async (c: Contender) => {
    const load = await c.load();
    if (written.get(c.name)?.load !== load) written.set(c.name, { load, script: writeWrkScript(dir, c.name, load) });
    return written.get(c.name)!.script;
  };
  for (const c of contenders) {
    const script = await scriptFor(c);
    await waitForQuiet(options);
    const warm = await measureRound(c, 0, options.warmupSeconds, script, options);
    console.log(`  warm-up  ${(c.label ?? c.name).padEnd(14)} ${describe(warm)}`);
  }
  const kept = new Map<ServerName, RoundResult[]>(contenders.map((c) => [c.name, []]));
  const discarded: RoundResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const order = round % 2 ? contenders : [...contenders].reverse();
    for (const c of order) {
      const attempts = await measureUndisturbed(c, round, () => scriptFor(c), options);
      kept.get(c.name)!.push(attempts.pop()!);
      discarded.push(...attempts);
    }
  }
  return { kept, discarded };
}

export function summarise(name: ServerName, rounds: readonly RoundResult[], label: string = name): ContenderSummary {
  const rps = rounds.map((r) => r.requestsPerSecond);
  return {
    name,
    label,
    requestsPerSecond: { median: median(rps), min: Math.min(...rps), max: Math.max(...rps) },
    latencyMs: {
      p50: median(rounds.map((r) => r.latencyMs.p50)),
      p95: median(rounds.map((r) => r.latencyMs.p95)),
      p99: median(rounds.map((r) => r.latencyMs.p99)),
    },
    serverCpuUsPerRequest: median(rounds.map((r) => r.serverCpuUsPerRequest)),
    probeSignUs: median(rounds.map((r) => r.probeSignUs)),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    wrongBody: rounds.reduce((n, r) => n + r.wrongBody, 0),
    socketErrors: rounds.reduce((n, r) => n + r.socketErrors, 0),
  };
}

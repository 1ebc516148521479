import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ContenderSummary, RoundResult } from './lib-benchmark.ts';
import type { BenchOptions, ServerName } from './lib-options.ts';

/** `bench/results/`, or MANDATE_BENCH_RESULTS_DIR (the harness test writes to a temporary directory). */
export const RESULTS_DIR = process.env['MANDATE_BENCH_RESULTS_DIR'] ? `${process.env['MANDATE_BENCH_RESULTS_DIR'].replace(/\/$/, '')}/` : fileURLToPath(new URL('./results/', import.meta.url));

/** `2026-11-23T17-40-12Z`: an ISO 8601 instant that is also a portable file name. */
export function fileTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export interface Ratio {
  requestsPerSecond: number;
  /** The same ratio from CPU per request: less sensitive to time other processes take from the server's core. */
  perCoreSecond: number;
  perRound: number[];
  p50: number;
  p95: number;
  p99: number;
}

/** Mandate over the peer: throughput ratio (higher is better for Mandate) and latency ratios (lower is better). */
export function ratioOf(summaries: readonly ContenderSummary[], rounds: ReadonlyMap<ServerName, RoundResult[]>): Ratio | null {
  const m = summaries.find((s) => s.name === 'mandate');
  const p = summaries.find((s) => s.name === 'oidc-provider');
  if (!m || !p) return null;
  const mr = rounds.get('mandate')!;
  const pr = rounds.get('oidc-provider')!;
  return {
    requestsPerSecond: m.requestsPerSecond.median / p.requestsPerSecond.median,
    perCoreSecond: p.serverCpuUsPerRequest / m.serverCpuUsPerRequest,
    perRound: mr.map((r, i) => r.requestsPerSecond / pr[i]!.requestsPerSecond),
    p50: m.latencyMs.p50 / p.latencyMs.p50,
    p95: m.latencyMs.p95 / p.latencyMs.p95,
    p99: m.latencyMs.p99 / p.latencyMs.p99,
  };
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatTable(summaries: readonly ContenderSummary[], ratio: Ratio | null, options: BenchOptions): string {
  const header = ['server', 'req/s median (min–max)', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU µs/req', 'req per CPU-s', 'RSS MiB', 'probe µs', 'errors'];
  const rows = summaries.map((s) => [
    s.label ?? s.name,
    `${int(s.requestsPerSecond.median)} (${int(s.requestsPerSecond.min)}–${int(s.requestsPerSecond.max)})`,
    s.latencyMs.p50.toFixed(2),
    s.latencyMs.p95.toFixed(2),
    s.latencyMs.p99.toFixed(2),
    s.serverCpuUsPerRequest.toFixed(1),
    int(1e6 / s.serverCpuUsPerRequest),
    s.rssMiB === undefined ? '–' : s.rssMiB.toFixed(0),
    s.probeSignUs.toFixed(1),
    s.non2xx + s.wrongBody + s.socketErrors === 0 ? '0' : `non2xx ${s.non2xx}, wrong body ${s.wrongBody}, socket ${s.socketErrors}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  if (ratio) {
    out.push(
      '',
      `${summaries.find((s) => s.name === 'mandate')?.label ?? 'mandate'} / ${summaries.find((s) => s.name === 'oidc-provider')?.label ?? 'oidc-provider'}: ${ratio.requestsPerSecond.toFixed(2)}× req/s (per round ${ratio.perRound.map((r) => r.toFixed(2)).join(', ')}), ` +
        `${ratio.perCoreSecond.toFixed(2)}× requests per CPU-second; ` +
        `latency ×${ratio.p50.toFixed(2)} p50, ×${ratio.p95.toFixed(2)} p95, ×${ratio.p99.toFixed(2)} p99 (below 1 = Mandate faster)`,
    );
  }
  const errors = summaries.some((s) => s.non2xx + s.wrongBody + s.socketErrors > 0);
  if (errors) out.push('', 'THIS RUN HAD ERRORS under load: its figures do not measure the intended work.');
  out.push(
    '',
    `${options.rounds} × ${options.durationSeconds} s per server after ${options.warmupSeconds} s warm-up, interleaved; ` +
      `wrk -t1 -c${options.connections} keep-alive; ${options.pinned ? 'each server pinned to core 1, wrk to core 0 (taskset)' : 'unpinned'}; medians. ` +
      'probe: µs per ES256 signature in a hot loop before each round, to see the machine\'s own speed drift.',
  );
  return out.join('\n');
}

/** Writes `bench/results/<name>-<timestamp>.json` and returns its path. */
export function writeResults(name: string, startedAt: Date, results: Record<string, unknown>): string {
  const path = `${RESULTS_DIR}${name}-${fileTimestamp(startedAt)}.json`;
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

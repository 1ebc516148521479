/** One scenario's run within `all`, with the JSON it wrote. */
export interface Entry {
  id: string;
  scenario: string;
  store: 'sqlite' | 'postgres';
  file: string;
  result: ScenarioResult | ExchangeResult;
}

interface Summary {
  name: 'mandate' | 'oidc-provider';
  label?: string;
  requestsPerSecond: { median: number };
  latencyMs: { p50: number; p95: number; p99: number };
  serverCpuUsPerRequest: number;
  rssMiB?: number;
  non2xx: number;
  wrongBody: number;
  socketErrors: number;
}
interface ScenarioResult {
  benchmark: string;
  unit?: string;
  summary: Summary[];
  ratio: { requestsPerSecond: number; perCoreSecond: number } | null;
}
interface ExchangeSummary {
  scenario: string;
  rate: number;
  latencyMs: { p50: number; p95: number; p99: number };
  serverCpuUsPerRequest: number;
  errors: number;
  holds?: boolean;
}
interface ExchangeResult {
  benchmark: 'exchange';
  summary: ExchangeSummary[];
}

export interface Target {
  target: string;
  measured: string;
  /** null: not measured in this run. */
  holds: boolean | null;
}

const isExchange = (r: Entry['result']): r is ExchangeResult => r.benchmark === 'exchange';
const find = (entries: readonly Entry[], id: string, store: Entry['store']) => entries.find((e) => e.id === id && e.store === store);
const side = (e: Entry | undefined, name: Summary['name']) => (e && !isExchange(e.result) ? e.result.summary.find((s) => s.name === name) : undefined);
const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The issue's targets (13 item 2, 11 item 8), each judged from the runs that measure it. */
export function judgeTargets(entries: readonly Entry[]): Target[] {
  const targets: Target[] = [];
  const ratioTarget = (id: string, what: string, min: number) => {
    const e = find(entries, id, 'sqlite');
    const ratio = e && !isExchange(e.result) ? e.result.ratio : null;
    targets.push({
      target: `${what} ≥ ${min}× oidc-provider (req/s)`,
      measured: ratio ? `${ratio.requestsPerSecond.toFixed(2)}× (${ratio.perCoreSecond.toFixed(2)}× per CPU-second)` : 'not measured',
      holds: ratio ? ratio.requestsPerSecond >= min : null,
    });
  };
  ratioTarget('cc', 'client_credentials', 2.5);
  ratioTarget('introspect', 'introspection, one repeated token', 3);
  ratioTarget('introspect-5000', 'introspection, 5,000 distinct tokens', 2);
  ratioTarget('refresh', 'refresh with rotation', 2);
  ratioTarget('code', 'authorization code + PKCE, full flow', 2);
  const exchange = find(entries, 'exchange', 'sqlite');
  for (const load of ['exchange', 'exchange+DPoP']) {
    const s = exchange && isExchange(exchange.result) ? exchange.result.summary.find((x) => x.scenario === load) : undefined;
    targets.push({ target: `${load === 'exchange' ? 'token exchange, two-level act' : 'token exchange with DPoP'}: p95 < 10 ms at ${s?.rate ?? 1000}/s`, measured: s ? `p95 ${s.latencyMs.p95.toFixed(2)} ms` : 'not measured', holds: s ? s.latencyMs.p95 < 10 && s.errors === 0 : null });
  }
  for (const e of entries.filter((x) => x.store === 'postgres' && !x.id.startsWith('cc-'))) {
    const pg = side(e, 'mandate');
    const lite = side(find(entries, e.id, 'sqlite'), 'mandate');
    targets.push({
      target: `${e.id}: PostgreSQL, one instance ≥ ½ of SQLite`,
      measured: pg && lite ? `${int(pg.requestsPerSecond.median)} vs ${int(lite.requestsPerSecond.median)}/s (${(pg.requestsPerSecond.median / lite.requestsPerSecond.median).toFixed(2)})` : 'not measured',
      holds: pg && lite ? pg.requestsPerSecond.median >= lite.requestsPerSecond.median / 2 : null,
    });
  }
  const one = side(find(entries, 'cc-1-instance-unpinned', 'postgres'), 'mandate');
  const two = side(find(entries, 'cc-2-instances', 'postgres'), 'mandate');
  targets.push({
    target: 'client_credentials on PostgreSQL: two instances > one (both unpinned)',
    measured: one && two ? `${int(two.requestsPerSecond.median)} vs ${int(one.requestsPerSecond.median)}/s` : 'not measured',
    holds: one && two ? two.requestsPerSecond.median > one.requestsPerSecond.median : null,
  });
  return targets;
}

const latency = (s: { latencyMs: { p50: number; p95: number; p99: number } } | undefined) =>
  s ? `${s.latencyMs.p50.toFixed(1)} / ${s.latencyMs.p95.toFixed(1)} / ${s.latencyMs.p99.toFixed(1)}` : '–';
const errorsOf = (s: Summary | undefined) => (s ? s.non2xx + s.wrongBody + s.socketErrors : 0);

/** The Markdown table of every run, then the targets. */
export function formatAllTable(entries: readonly Entry[], targets: readonly Target[]): string {
  const rows: string[] = [];
  for (const e of entries) {
    if (isExchange(e.result)) {
      for (const s of e.result.summary) {
        rows.push(`| ${s.scenario} at ${s.rate}/s (fixed rate) | ${e.store} | ${s.rate} | – | – | ${latency(s)} | – | – | ${s.serverCpuUsPerRequest.toFixed(0)} | ${s.errors} | [json](${e.file}) |`);
      }
      continue;
    }
    const m = side(e, 'mandate');
    const p = side(e, 'oidc-provider');
    const ratio = e.result.ratio;
    const peer = p ? `${int(p.requestsPerSecond.median)} (${p.label ?? p.name})` : '–';
    rows.push(
      `| ${e.id}${e.result.unit && e.result.unit !== 'requests' ? ` (${e.result.unit})` : ''} | ${e.store} | ${m ? int(m.requestsPerSecond.median) : '–'} | ${peer} | ` +
        `${ratio ? `${ratio.requestsPerSecond.toFixed(2)}× (${ratio.perCoreSecond.toFixed(2)}× CPU)` : '–'} | ${latency(m)} | ${latency(p)} | ` +
        `${m?.rssMiB?.toFixed(0) ?? '–'} / ${p?.rssMiB?.toFixed(0) ?? '–'} | ${m ? m.serverCpuUsPerRequest.toFixed(0) : '–'} / ${p ? p.serverCpuUsPerRequest.toFixed(0) : '–'} | ${errorsOf(m) + errorsOf(p)} | [json](${e.file}) |`,
    );
  }
  const verdict = (t: Target) => (t.holds === null ? 'not measured' : t.holds ? '**holds**' : '**missed**');
  return [
    '| scenario | store | Mandate req/s | peer req/s | ratio | Mandate p50 / p95 / p99 ms | peer p50 / p95 / p99 ms | RSS MiB Mandate / peer | CPU µs/req Mandate / peer | errors | run |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '| target | measured | verdict |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${verdict(t)} |`),
  ].join('\n');
}

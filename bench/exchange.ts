/**
 * `npm run bench -- exchange` (issue 11 item 8): latency of RFC 8693 token exchange at a fixed rate (default 1,000
 * req/s, `--rate`), the second hop of user → agent A → agent B (an `act` chain of two levels, as `two-hop`), as a
 * bearer exchange and with DPoP (a fresh ES256 proof per request, made by the driver before each run: proofs are
 * single-use), next to client_credentials at the same rate in the same run. Mandate alone: oidc-provider has no
 * token exchange in its core. Target: p95 < 10 ms for both exchanges.
 *
 * Debian's wrk has no constant-rate mode (`-R` is wrk2's), so the driver is lib-rate.ts: open loop, latency from
 * each request's due time (no coordinated omission), node:http keep-alive, in this process on the load core.
 */
import { DpopProver } from '../packages/sdk/src/dpop/prover.ts';
import { startTwoHop } from './lib-exchange.ts';
import { basicAuthorization, CLIENT_CREDENTIALS_BODY, FORM_CONTENT_TYPE } from './lib-fixture.ts';
import { machineInfo, prepareMachine, waitForQuiet } from './lib-machine.ts';
import { parseBenchOptions } from './lib-options.ts';
import { runConstantRate, type RateRequest, type RateResult } from './lib-rate.ts';
import { writeResults } from './lib-report.ts';
import { writeMarkdown } from './lib-markdown.ts';

const TARGET_P95_MS = 10;
const options = parseBenchOptions('exchange', process.argv.slice(2));
const startedAt = new Date();
const machine = machineInfo();
const { serverCore } = prepareMachine(options);
const hop = await startTwoHop({ options, core: serverCore, profileDir: null });
const { app } = hop;
const mandate = app.mandate!;
const prover = DpopProver.generate('ES256');

type LoadName = 'client_credentials' | 'exchange' | 'exchange+DPoP';
const loads: Record<LoadName, (count: number) => (i: number) => RateRequest> = {
  client_credentials: () => {
    const r = { path: app.endpoints.tokenPath, headers: { authorization: basicAuthorization(mandate.clientId, mandate.clientSecret), 'content-type': FORM_CONTENT_TYPE }, body: CLIENT_CREDENTIALS_BODY, expect: '"access_token":"' };
    return () => r;
  },
  exchange: () => {
    const r = { path: app.endpoints.tokenPath, headers: { authorization: hop.authorization, 'content-type': FORM_CONTENT_TYPE }, body: hop.body, expect: '"access_token":"' };
    return () => r;
  },
  'exchange+DPoP': (count) => {
    // One proof per request, made now (each is single-use; `iat` must be recent when it arrives).
    const proofs = Array.from({ length: count }, () => prover.proof('POST', app.endpoints.tokenEndpoint));
    const headers = { authorization: hop.authorization, 'content-type': FORM_CONTENT_TYPE };
    return (i) => ({ path: app.endpoints.tokenPath, headers: { ...headers, dpop: proofs[i]! }, body: hop.body, expect: '"token_type":"DPoP"' });
  },
};

interface Run extends RateResult {
  load: LoadName;
  round: number;
  serverCpuUsPerRequest: number;
}
async function measure(load: LoadName, round: number, seconds: number): Promise<Run> {
  const next = loads[load](Math.round(options.rate * seconds));
  await waitForQuiet(options);
  const cpuBefore = app.server.cpuSeconds();
  const result = await runConstantRate({ origin: app.endpoints.origin, rate: options.rate, seconds, next });
  const run = { load, round, ...result, serverCpuUsPerRequest: ((app.server.cpuSeconds() - cpuBefore) * 1e6) / result.sent };
  const errors = run.non2xx + run.wrongBody + run.socketErrors;
  console.log(
    `  ${round === 0 ? 'warm-up' : `round ${round}`}  ${load.padEnd(18)} ${Math.round(run.sentPerSecond)} req/s sent  p50 ${run.latencyMs.p50.toFixed(2)}  p95 ${run.latencyMs.p95.toFixed(2)}  p99 ${run.latencyMs.p99.toFixed(2)}  max ${run.latencyMs.max.toFixed(1)} ms` +
      `  cpu ${run.serverCpuUsPerRequest.toFixed(0)} µs/req${errors ? `  ERRORS non2xx=${run.non2xx} wrong=${run.wrongBody} socket=${run.socketErrors}` : ''}`,
  );
  return run;
}

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1]!;
console.log(`token exchange at a fixed ${options.rate} req/s: two-level act chain, bearer and DPoP, next to client_credentials\n  check    ok: ${JSON.stringify(hop.checked)}`);
const names = Object.keys(loads) as LoadName[];
const runs: Run[] = [];
try {
  for (const load of names) await measure(load, 0, options.warmupSeconds);
  for (let round = 1; round <= options.rounds; round++) {
    for (const load of round % 2 ? names : [...names].reverse()) runs.push(await measure(load, round, options.durationSeconds));
  }
} finally {
  await app.close();
}

const summary = names.map((load) => {
  const mine = runs.filter((r) => r.load === load);
  const p95 = median(mine.map((r) => r.latencyMs.p95));
  return {
    scenario: load,
    rate: options.rate,
    latencyMs: { p50: median(mine.map((r) => r.latencyMs.p50)), p95, p99: median(mine.map((r) => r.latencyMs.p99)) },
    serverCpuUsPerRequest: median(mine.map((r) => r.serverCpuUsPerRequest)),
    errors: mine.reduce((n, r) => n + r.non2xx + r.wrongBody + r.socketErrors, 0),
    ...(load === 'client_credentials' ? {} : { targetP95Ms: TARGET_P95_MS, holds: p95 < TARGET_P95_MS }),
  };
});
const rows = summary.map((s) => `| ${s.scenario} | ${s.rate} | ${s.latencyMs.p50.toFixed(2)} | ${s.latencyMs.p95.toFixed(2)} | ${s.latencyMs.p99.toFixed(2)} | ${s.serverCpuUsPerRequest.toFixed(0)} | ${s.errors} | ${'holds' in s ? (s.holds ? 'p95 < 10 ms: holds' : 'p95 < 10 ms: MISSED') : '–'} |`);
const table = ['| load | req/s | p50 ms | p95 ms | p99 ms | CPU µs/req | errors | target |', '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
console.log(`\n${table}\n\n${options.rounds} × ${options.durationSeconds} s per load after ${options.warmupSeconds} s warm-up, interleaved; medians; ${options.pinned ? 'Mandate pinned to core 1, the driver to core 0' : 'unpinned'}; store ${options.store}.`);
const results = { benchmark: 'exchange', startedAt: startedAt.toISOString(), machine, options, checked: hop.checked, settings: app.settings, summary, runs };
const path = writeResults('exchange', startedAt, results);
writeMarkdown(path, `# exchange at ${options.rate} req/s (${startedAt.toISOString()})\n\n${table}\n`);
console.log(`\nResults written to ${path}`);

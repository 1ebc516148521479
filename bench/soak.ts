/**
 * `npm run bench -- soak --minutes 10 --rate <half of the cc peak>` (issue 13 item 3): Mandate alone, `mandate
 * serve` on a fresh SQLite (or `--store postgres`) under a constant rate for a warm-up of WARMUP_MINUTES and then N
 * measured minutes, half client_credentials and half introspection of tokens it issued in the minute before
 * (distinct tokens, a ring of the last 1,000), its RSS sampled every 10 s and V8's heap spaces read each minute (its
 * metrics listener). Verdict: RSS is flat when neither the end nor the maximum of the measured minutes is more than
 * 10 % above the RSS at the end of the warm-up. The warm-up is V8 sizing its young generation to the load: the new
 * space doubles whenever as much as its size has survived collections since it last grew, up to its maximum (128 MiB
 * on the 24 GiB benchmark VM), which took about 3 minutes at 4,000 req/s and takes
 * longer at lower rates (each doubling needs twice the survivors of the one before; bench/results/
 * profile-memory-2026-12-01.md); old space, where a leak would show, is in the table. Also p99 per minute and errors.
 * Writes `bench/results/soak-<date>.json` and `.md`. Driver: lib-rate.ts (open loop, on the load core).
 */
import { basicAuthorization, CLIENT_CREDENTIALS_BODY, discoverEndpoints, FORM_CONTENT_TYPE, issueTokens } from './lib-fixture.ts';
import { machineInfo, prepareMachine } from './lib-machine.ts';
import { startMandate } from './lib-mandate.ts';
import { freeLoopbackPort, type HeapSpaces, readHeapSpaces } from './lib-heap.ts';
import { writeMarkdown } from './lib-markdown.ts';
import { parseBenchOptions } from './lib-options.ts';
import { type RateRequest, type RateResult, runConstantRate } from './lib-rate.ts';
import { writeResults } from './lib-report.ts';

const SAMPLE_SECONDS = 10;
const FLATNESS = 0.1;
const RING = 1000;
const WARMUP_MINUTES = 5;
const options = parseBenchOptions('soak', process.argv.slice(2));
const startedAt = new Date();
const machine = machineInfo();
const { serverCore } = prepareMachine(options);
const metricsPort = await freeLoopbackPort();
const m = await startMandate({ core: serverCore, profileDir: null, store: options.store, env: { MANDATE_METRICS_PORT: String(metricsPort) } });
const mib = (bytes: number) => bytes / 2 ** 20;

const samples: { seconds: number; rssMiB: number }[] = [];
/** Index in `samples` of the one read as the warm-up ended: the base of the verdict. */
let warmedUp = 0;
const minutes: (RateResult & { minute: number; warmUp: boolean; rssMiB: number; heap: HeapSpaces })[] = [];
try {
  const endpoints = await discoverEndpoints(m.server.url);
  const agent = basicAuthorization(m.clientId, m.clientSecret);
  const ring = await issueTokens(endpoints, agent, RING);
  let next = 0;
  const cc: RateRequest = { path: endpoints.tokenPath, headers: { authorization: agent, 'content-type': FORM_CONTENT_TYPE }, body: CLIENT_CREDENTIALS_BODY, expect: '"access_token":"' };
  const introspection = (token: string): RateRequest => ({
    path: endpoints.introspectionPath,
    headers: { authorization: `Bearer ${m.apiKey}`, 'content-type': FORM_CONTENT_TYPE },
    body: `token=${token}`,
    expect: '"active":true',
  });
  // Fresh tokens for the ring, from the load's own client_credentials answers, so none expires during a long soak.
  const collect = async () => {
    const fresh = await issueTokens(endpoints, agent, 100);
    for (const t of fresh) ring[next++ % RING] = t;
  };
  console.log(`soak: ${WARMUP_MINUTES} min warm-up + ${options.minutes} min at ${options.rate} req/s (half client_credentials, half introspection), RSS every ${SAMPLE_SECONDS} s; store ${options.store}`);
  const began = Date.now();
  const sample = () => samples.push({ seconds: Math.round((Date.now() - began) / 1000), rssMiB: mib(m.server.rssBytes()) });
  sample();
  const timer = setInterval(sample, SAMPLE_SECONDS * 1000);
  for (let minute = 1; minute <= WARMUP_MINUTES + options.minutes; minute++) {
    const r = await runConstantRate({ origin: endpoints.origin, rate: options.rate, seconds: 60, next: (i) => (i % 2 ? introspection(ring[(i >> 1) % RING]!) : cc) });
    const rssMiB = mib(m.server.rssBytes());
    const heap = await readHeapSpaces(metricsPort);
    minutes.push({ minute, warmUp: minute <= WARMUP_MINUTES, rssMiB, heap, ...r });
    if (minute === WARMUP_MINUTES) warmedUp = samples.push({ seconds: Math.round((Date.now() - began) / 1000), rssMiB }) - 1;
    console.log(`  minute ${minute}${minute <= WARMUP_MINUTES ? ' (warm-up)' : ''}  sent ${Math.round(r.sentPerSecond)}/s  p50 ${r.latencyMs.p50.toFixed(2)}  p99 ${r.latencyMs.p99.toFixed(2)} ms  errors ${r.non2xx + r.wrongBody + r.socketErrors}  RSS ${rssMiB.toFixed(0)} MiB  V8 new ${heap.newMiB.toFixed(0)} old ${heap.oldMiB.toFixed(0)} MiB`);
    await collect();
  }
  clearInterval(timer);
  sample();
} finally {
  await m.close();
}

const measured = samples.slice(warmedUp);
const base = measured[0]!.rssMiB;
const end = samples.at(-1)!.rssMiB;
const max = Math.max(...measured.map((s) => s.rssMiB));
const flat = end <= base * (1 + FLATNESS) && max <= base * (1 + FLATNESS);
// Where a leak would show, next to RSS: V8's old space (reserved, and used) as the warm-up ended and at the end.
const heapAt = (r: (typeof minutes)[number] | undefined) => (r ? `${r.heap.oldMiB.toFixed(0)} (${r.heap.oldUsedMiB.toFixed(0)} used)` : '?');
const oldSpace = `V8 old space after the warm-up ${heapAt(minutes[WARMUP_MINUTES - 1])}, end ${heapAt(minutes.at(-1))} MiB`;
const errors = minutes.filter((r) => !r.warmUp).reduce((n, r) => n + r.non2xx + r.wrongBody + r.socketErrors, 0);
const verdict = `RSS start ${samples[0]!.rssMiB.toFixed(0)} MiB, after the ${WARMUP_MINUTES}-minute warm-up ${base.toFixed(0)}, end ${end.toFixed(0)}, max ${max.toFixed(0)}: ${flat ? 'flat (within 10 %)' : 'NOT flat (more than 10 % above the RSS after the warm-up)'}; ${oldSpace}; ${errors} errors in the ${options.minutes} measured minutes (${minutes.filter((r) => r.warmUp).reduce((n, r) => n + r.non2xx + r.wrongBody + r.socketErrors, 0)} in the warm-up)`;
const table = [
  '| minute | sent/s | p50 ms | p99 ms | errors | RSS MiB | V8 new / old space MiB (old used) |',
  '|---|---|---|---|---|---|---|',
  ...minutes.map((r) => `| ${r.minute}${r.warmUp ? ' (warm-up)' : ''} | ${Math.round(r.sentPerSecond)} | ${r.latencyMs.p50.toFixed(2)} | ${r.latencyMs.p99.toFixed(2)} | ${r.non2xx + r.wrongBody + r.socketErrors} | ${r.rssMiB.toFixed(0)} | ${r.heap.newMiB.toFixed(0)} / ${r.heap.oldMiB.toFixed(0)} (${r.heap.oldUsedMiB.toFixed(0)}) |`),
].join('\n');
console.log(`\n${verdict}\n\n${table}`);
const path = writeResults('soak', startedAt, { benchmark: 'soak', startedAt: startedAt.toISOString(), machine, options, settings: m.settings, warmupMinutes: WARMUP_MINUTES, rss: { startMiB: samples[0]!.rssMiB, afterWarmupMiB: base, endMiB: end, maxMiB: max, flat, samples }, errors, minutes });
writeMarkdown(path, `# soak, ${options.minutes} min at ${options.rate} req/s after ${WARMUP_MINUTES} min of warm-up, ${options.store} (${startedAt.toISOString()})\n\n${verdict}.\n\n${table}\n\nRSS every ${SAMPLE_SECONDS} s: ${samples.map((s) => `${s.seconds}s ${s.rssMiB.toFixed(0)}`).join(', ')} (MiB)\n`);
console.log(`\nResults written to ${path}`);

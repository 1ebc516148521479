import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) this reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A time window in the profile's clock (µs of CLOCK_MONOTONIC, the same clock as process.hrtime). */
export interface Window {
  startUs: number;
  endUs: number;
}

export interface ProfileEntry {
  label: string;
  selfMs: number;
  share: number;
  usPerRequest: number;
}

export interface ProfileSummary {
  sampledMs: number;
  samples: number;
  /** Whether samples were limited to the measured rounds (false if the windows did not fit the profile). */
  windowed: boolean;
  topSelf: ProfileEntry[];
  layers: ProfileEntry[];
}

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  return path.startsWith(repoRoot) ? path.slice(repoRoot.length) : path;
}

/**
 * Layers of the request path, matched innermost frame first. A frame no rule names (a native builtin such as
 * `sign` or `JSON.stringify`, node's crypto wrappers, the task queue) is transparent: its time goes to the nearest
 * caller a rule does name, so `crypto.sign` counts as ES256 and `createHash` as whoever hashes.
 */
const LAYERS: { layer: string; match: RegExp }[] = [
  { layer: 'ES256 sign/verify (node:crypto + DER↔r‖s)', match: /packages\/protocol\/src\/(algorithms|ecdsa-signature)\.ts/ },
  { layer: 'audit: hash chain (SHA-256 + canonical JSON)', match: /packages\/server\/src\/audit\/(audit-chain|canonical-json)\.ts/ },
  { layer: 'SQLite (node:sqlite statements, BEGIN/COMMIT)', match: /packages\/server\/src\/store\/sqlite\/sqlite-driver\.ts/ },
  { layer: 'audit: batching and row building', match: /packages\/server\/src\/(audit\/audit-log|store\/sql\/audit-records)\.ts/ },
  { layer: 'store: row decoding (JSON columns)', match: /packages\/server\/src\/store\// },
  { layer: 'SHA-256 of secrets / token cache key', match: /packages\/server\/src\/tokens\/(secret|verified-token-cache)\.ts/ },
  { layer: 'form + Authorization parsing', match: /packages\/server\/src\/http\/(form|request-form|client-auth)\.ts/ },
  { layer: 'JWT claims, JSON, base64url', match: /packages\/(server\/src\/tokens\/(jwt|access-token)|protocol\/src\/(encode|parse|verify)-compact-jws)\.ts/ },
  { layer: 'Mandate endpoint/grant/policy logic', match: /packages\/server\/src\// },
  { layer: 'Fastify (routing, hooks, reply)', match: /node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify|fast-json-stringify|pino|abstract-logging)/ },
  { layer: 'node:http + net (parse, write, sockets)', match: /^node:(_http|http|net|internal\/(http|stream|streams|net|js_stream|stream_base_commons|url))/ },
];

function layerOf(stack: string[]): string {
  for (const url of stack) {
    const hit = LAYERS.find((l) => l.match.test(url));
    if (hit) {
      // SQLite statements run for the audit append and for lookups; say which.
      if (hit.layer.startsWith('SQLite')) return stack.some((u) => /audit-records\.ts/.test(u)) ? 'audit: SQLite insert + commit' : 'SQLite reads (client, resource, revocation)';
      return hit.layer;
    }
  }
  return 'other (V8 runtime, builtins, timers)';
}

function ranked(times: Map<string, number>, totalMs: number, requests: number, limit: number): ProfileEntry[] {
  return [...times.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([label, ms]) => ({ label, selfMs: ms, share: ms / totalMs, usPerRequest: (ms * 1000) / requests }));
}

/**
 * Self time per function and per layer, from the samples taken inside `windows` (the measured rounds; warm-up and
 * start-up left out). Each sample counts for the time until the next one. µs/request divides by `requests`.
 */
export function summariseProfile(file: string, windows: readonly Window[], requests: number, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const sampleTimes: number[] = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas) sampleTimes.push((t += delta));
  const end = sampleTimes.at(-1) ?? t;
  const windowed = windows.length > 0 && windows.every((w) => w.startUs >= profile.startTime && w.endUs <= end + 1e6);
  const inWindow = (time: number) => !windowed || windows.some((w) => time >= w.startUs && time < w.endUs);

  const selfUs = new Map<number, number>();
  let totalUs = 0;
  let samples = 0;
  for (let i = 0; i < profile.samples.length - 1; i++) {
    if (!inWindow(sampleTimes[i]!)) continue;
    const duration = sampleTimes[i + 1]! - sampleTimes[i]!;
    selfUs.set(profile.samples[i]!, (selfUs.get(profile.samples[i]!) ?? 0) + duration);
    totalUs += duration;
    samples++;
  }

  const byFunction = new Map<string, number>();
  const byLayer = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    const label = url ? `${functionName || '(anonymous)'}  ${shortUrl(url)}:${lineNumber + 1}` : functionName || '(anonymous)';
    byFunction.set(label, (byFunction.get(label) ?? 0) + us / 1000);

    let layer: string;
    if (functionName === '(garbage collector)') layer = 'GC';
    else if (functionName === '(idle)') layer = 'idle';
    else {
      const stack: string[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame.url);
      layer = layerOf(stack);
    }
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + us / 1000);
  }
  const totalMs = totalUs / 1000;
  return {
    sampledMs: totalMs,
    samples,
    windowed,
    topSelf: ranked(byFunction, totalMs, requests, top),
    layers: ranked(byLayer, totalMs, requests, Infinity),
  };
}

export function formatProfile(summary: ProfileSummary, requests: number): string {
  const row = (e: ProfileEntry) =>
    `${e.selfMs.toFixed(0).padStart(8)} ms ${(e.share * 100).toFixed(1).padStart(5)}% ${e.usPerRequest.toFixed(2).padStart(7)} µs/req  ${e.label}`;
  return [
    `Profile: ${summary.samples} samples, ${(summary.sampledMs / 1000).toFixed(1)} s ${summary.windowed ? 'in the measured rounds' : '(whole run: the round windows did not fit the profile)'}, ${requests} requests`,
    '',
    'By layer (self time, innermost named frame):',
    ...summary.layers.map(row),
    '',
    `Top ${summary.topSelf.length} functions by self time:`,
    ...summary.topSelf.map(row),
  ].join('\n');
}

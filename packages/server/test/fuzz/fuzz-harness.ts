import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import type { FuzzWorld } from './fuzz-world.ts';
import { openProbe } from './invariants.ts';

/**
 * Runs fuzz targets against one server and checks the oracles after every input: no 5xx, every error in its
 * endpoint's format (RFC 6749 JSON, a `WWW-Authenticate` challenge, problem+json, or an HTML page), no stack trace,
 * no durable row written by a refused request; after each target, no broken relation in the database; over the whole
 * run, no unhandled rejection in the process.
 */

export type ErrorFormat = 'oauth' | 'bearer' | 'admin' | 'page';

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** What one input did: `accepted` (2xx/3xx or a parser's success) or `refused`. */
export type Outcome = 'accepted' | 'refused';

/** An outcome with its label for the per-target outcome table (`200`, `400 invalid_grant`, `302 error=access_denied`). */
export interface Verdict {
  outcome: Outcome;
  label: string;
}

export interface FuzzTarget<T = unknown, P = any> {
  name: string;
  inputs(world: FuzzWorld): fc.Arbitrary<T>;
  /**
   * Makes fresh valid artefacts for one input through the real endpoints (a code, a refresh token), before the
   * durable row counts are read: what it writes is not the input's doing.
   */
  prepare?(world: FuzzWorld): Promise<P>;
  /** Sends or parses one input; throws (an assertion) when an oracle fails. */
  run(world: FuzzWorld, input: T, prepared: P): Promise<Outcome | Verdict>;
}

/** Raw HTTP, so malformed headers and bodies reach the server exactly as generated (fetch would normalise them). */
export function send(issuer: string, sent: FuzzRequest): Promise<FuzzResponse> {
  const body = sent.body === undefined ? undefined : Buffer.from(sent.body);
  const headers = { ...sent.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(`${issuer}${sent.path}`), { method: sent.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export class OracleFailure extends Error {}

function fail(what: string, request: FuzzRequest, response: FuzzResponse): never {
  const shown = `${request.method} ${request.path.slice(0, 200)} ${String(request.body ?? '').slice(0, 300)}`;
  throw new OracleFailure(`${what}: ${shown} → ${response.status} ${response.body.slice(0, 300)}`);
}

/** The error-format oracle for one endpoint kind. */
export function checkResponse(format: ErrorFormat, request: FuzzRequest, response: FuzzResponse): Outcome {
  if (response.status >= 500) fail('5xx', request, response);
  if (/at [^\n]*\.ts:\d+/.test(response.body)) fail('stack trace in the body', request, response);
  if (/"code":"FST_/.test(response.body)) fail("Fastify's own error body", request, response);
  if (response.status < 400) return 'accepted';
  const type = String(response.headers['content-type'] ?? '');
  const json = /^application\/(problem\+)?json/.test(type);
  const challenge = String(response.headers['www-authenticate'] ?? '');
  if (format === 'page') {
    if (!json && !type.startsWith('text/html')) fail(`error as ${type || 'no content type'}`, request, response);
    return 'refused';
  }
  if (format === 'bearer' && response.status === 401) {
    if (!/^(Bearer|DPoP)\b/.test(challenge)) fail('401 without a Bearer/DPoP challenge', request, response);
    return 'refused';
  }
  if (!json) fail(`error as ${type || 'no content type'}`, request, response);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(response.body) as Record<string, unknown>;
  } catch {
    fail('error body is not JSON', request, response);
  }
  if (typeof parsed['error'] !== 'string' && typeof parsed['type'] !== 'string') fail('error without `error` or problem `type`', request, response);
  // RFC 6749 §5.2 error codes as Mandate writes them; problem types are URNs.
  if (typeof parsed['error'] === 'string' && !/^[a-z_]+$/.test(parsed['error'])) fail('`error` is not an RFC 6749 error code', request, response);
  if (format === 'admin' && typeof parsed['type'] !== 'string') fail('admin API error without a problem `type`', request, response);
  return 'refused';
}

/** A response's label: its status, with the RFC 6749 `error`, the problem `type`'s last part or a redirect's `error`. */
export function labelOf(response: FuzzResponse): string {
  const location = String(response.headers['location'] ?? '');
  if (response.status >= 300 && response.status < 400) {
    const error = /[?&#]error=([^&]*)/.exec(location)?.[1];
    return error ? `${response.status} error=${decodeURIComponent(error)}` : String(response.status);
  }
  if (response.status < 400) return String(response.status);
  try {
    const body = JSON.parse(response.body) as Record<string, unknown>;
    if (typeof body['error'] === 'string') return `${response.status} ${body['error']}`;
    if (typeof body['type'] === 'string') return `${response.status} ${body['type'].split(':').at(-1)}`;
  } catch {
    // not JSON: the status alone
  }
  const challenge = /error="([^"]*)"/.exec(String(response.headers['www-authenticate'] ?? ''))?.[1];
  return challenge ? `${response.status} ${challenge}` : String(response.status);
}

/** Applies the format oracle to a response and labels it. */
export function judge(format: ErrorFormat, request: FuzzRequest, response: FuzzResponse): Verdict {
  return { outcome: checkResponse(format, request, response), label: labelOf(response) };
}

/** An HTTP target: builds requests and applies the format oracle. */
export function httpTarget(name: string, format: ErrorFormat, requests: (world: FuzzWorld) => fc.Arbitrary<FuzzRequest>): FuzzTarget<FuzzRequest> {
  return {
    name,
    inputs: requests,
    async run(world, request) {
      return judge(format, request, await send(world.server.issuer, request));
    },
  };
}

export interface TargetSummary {
  target: string;
  inputs: number;
  accepted: number;
  refused: number;
  /** How many inputs got each outcome label (`200`, `400 invalid_grant`, …). */
  outcomes: Record<string, number>;
  failures: string[];
}

const unhandled: unknown[] = [];
let hooked = false;

/** Collects unhandled rejections and uncaught exceptions for the whole process (the server runs in it). */
export function watchUnhandled(): { count(): number; list(): unknown[] } {
  if (!hooked) {
    hooked = true;
    process.on('unhandledRejection', (reason) => void unhandled.push(reason));
    process.on('uncaughtExceptionMonitor', (err) => void unhandled.push(err));
  }
  return { count: () => unhandled.length, list: () => [...unhandled] };
}

/**
 * Runs one target for `runs` inputs. Every refused input must leave the durable row counts as they were; after the
 * run, the database must have no broken relation. Failures are collected (fast-check's shrunk counterexample first)
 * rather than thrown, so that one run reports every target.
 */
export async function runTarget(world: FuzzWorld, databaseUrl: string, target: FuzzTarget<any>, runs: number, seed: number): Promise<TargetSummary> {
  const summary: TargetSummary = { target: target.name, inputs: 0, accepted: 0, refused: 0, outcomes: {}, failures: [] };
  const probe = await openProbe(databaseUrl);
  try {
    const result = await fc.check(
      fc.asyncProperty(target.inputs(world), async (input) => {
        summary.inputs++;
        const prepared = target.prepare ? await target.prepare(world) : undefined;
        const before = await probe.durableCounts();
        const ran = await target.run(world, input, prepared);
        const { outcome, label } = typeof ran === 'string' ? { outcome: ran, label: ran } : ran;
        summary[outcome]++;
        summary.outcomes[label] = (summary.outcomes[label] ?? 0) + 1;
        if (outcome === 'refused') {
          const after = await probe.durableCounts();
          if (after !== before) throw new OracleFailure(`a refused input wrote rows: ${before} → ${after}`);
        }
      }),
      { numRuns: runs, seed, endOnFailure: false, interruptAfterTimeLimit: undefined },
    );
    if (result.failed) summary.failures.push(`${String(result.errorInstance ?? 'failed').slice(0, 1500)}\n  counterexample: ${fc.stringify(result.counterexample).slice(0, 800)}`);
    await world.server.context.audit.flush();
    for (const broken of await probe.brokenRelations()) summary.failures.push(`invariant: ${broken}`);
  } finally {
    await probe.close();
  }
  return summary;
}

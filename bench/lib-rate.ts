import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** One request of a constant-rate run. */
export interface RateRequest {
  method?: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
  /** A 2xx whose body lacks this text counts as wrong. */
  expect: string;
}

export interface RateResult {
  /** Requests sent, and the rate they were sent at over the run (close to the target unless the driver fell behind). */
  sent: number;
  sentPerSecond: number;
  ok: number;
  non2xx: number;
  wrongBody: number;
  socketErrors: number;
  durationSeconds: number;
  /** From each request's scheduled send time to its response's end (so a stalled server's queue counts: no coordinated omission). */
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

export interface RateRun {
  origin: string;
  rate: number;
  seconds: number;
  /** The i-th request (0-based); called when it is due, so single-use values are made before the run and taken here. */
  next(i: number): RateRequest;
  /** Keep-alive connections at most (more requests in flight wait for one, and their wait counts). Default 64. */
  connections?: number;
}

export function percentile(sorted: Float64Array | readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Sends requests at a constant rate, open loop, as wrk2 does (Debian's wrk has no `-R`): request i is due at
 * start + i / rate whatever became of the earlier ones, and its latency runs from that due time. node:http with
 * keep-alive, in this process (pinned to the load core by the harness); a 1 ms timer sends what has come due.
 */
export function runConstantRate(run: RateRun): Promise<RateResult> {
  const url = new URL(run.origin);
  const agent = new Agent({ keepAlive: true, maxSockets: run.connections ?? 64 });
  const total = Math.round(run.rate * run.seconds);
  const latencies = new Float64Array(total);
  let sent = 0;
  let done = 0;
  let ok = 0;
  let non2xx = 0;
  let wrongBody = 0;
  let socketErrors = 0;
  const start = performance.now();
  return new Promise((resolve) => {
    const finish = () => {
      const durationSeconds = (performance.now() - start) / 1000;
      agent.destroy();
      const sorted = latencies.slice(0, done).sort();
      resolve({
        sent,
        sentPerSecond: sent / run.seconds,
        ok,
        non2xx,
        wrongBody,
        socketErrors,
        durationSeconds,
        latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
      });
    };
    const settle = (i: number, due: number) => {
      latencies[done++] = performance.now() - due;
      void i;
      if (done === total) finish();
    };
    const fire = (i: number) => {
      const due = start + (i * 1000) / run.rate;
      const r = run.next(i);
      const req = request(
        { host: url.hostname, port: url.port, path: r.path, method: r.method ?? 'POST', agent, headers: { ...r.headers, ...(r.method === 'GET' ? {} : { 'content-length': Buffer.byteLength(r.body) }) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) non2xx++;
            else if (!text.includes(r.expect)) wrongBody++;
            else ok++;
            settle(i, due);
          });
        },
      );
      req.on('error', () => {
        socketErrors++;
        settle(i, due);
      });
      req.end(r.method === 'GET' ? undefined : r.body);
    };
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * run.rate) / 1000) + 1);
      while (sent < due) fire(sent++);
      if (sent < total) setTimeout(tick, 1);
    };
    tick();
  });
}

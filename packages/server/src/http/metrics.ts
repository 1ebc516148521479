import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics (prom-client), served by a listener of their own (`metrics.port`, loopback by default), never
 * by the public app: an operator opts in, and the issuer's URL never exposes them. Counting costs a map lookup and
 * two increments per request: each label combination's child is looked up once and kept.
 */

/** Request latency buckets, in seconds: token requests take about a millisecond, page flows tens. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface MetricsSources {
  /** Audit events recorded and not yet committed. */
  auditQueueDepth(): number;
  /** Approval requests waiting for a decision (read from the store at each scrape). */
  pendingApprovals(): Promise<number>;
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly #requests = new Counter({
    name: 'mandate_http_requests_total',
    help: 'Answered HTTP requests, by route pattern, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly #latency = new Histogram({
    name: 'mandate_http_request_duration_seconds',
    help: 'Time from receiving a request to sending its response, by route pattern and method.',
    labelNames: ['route', 'method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #issued = new Counter({
    name: 'mandate_tokens_issued_total',
    help: 'Successful token responses, by grant type.',
    labelNames: ['grant_type'] as const,
    registers: [this.registry],
  });
  readonly #refused = new Counter({
    name: 'mandate_token_requests_refused_total',
    help: 'Refused token requests, by OAuth error code.',
    labelNames: ['error'] as const,
    registers: [this.registry],
  });
  readonly #counters = new Map<string, Counter.Internal>();
  readonly #timers = new Map<string, Histogram.Internal<'route' | 'method'>>();

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'mandate_audit_queue_depth',
      help: 'Audit events recorded and waiting for their transaction (group commit).',
      registers: [this.registry],
      collect() {
        this.set(sources.auditQueueDepth());
      },
    });
    new Gauge({
      name: 'mandate_approval_requests_pending',
      help: 'Approval requests waiting for an approver, over every instance (one database read per scrape).',
      registers: [this.registry],
      async collect() {
        this.set(await sources.pendingApprovals());
      },
    });
  }

  /** Fastify `onResponse` hook: counts and times every answered request. */
  readonly onResponse = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    // The route's pattern, not the path: a path carries ids (and unmatched ones anything) and would explode the series.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = reply.statusCode;
    const key = `${request.method} ${status} ${route}`;
    let counter = this.#counters.get(key);
    if (!counter) this.#counters.set(key, (counter = this.#requests.labels({ route, method: request.method, status: String(status) })));
    counter.inc();
    const timerKey = `${request.method} ${route}`;
    let timer = this.#timers.get(timerKey);
    if (!timer) this.#timers.set(timerKey, (timer = this.#latency.labels({ route, method: request.method })));
    timer.observe(reply.elapsedTime / 1000);
  };

  readonly #issuedByGrant = new Map<string, Counter.Internal>();

  tokenIssued(grantType: string): void {
    let counter = this.#issuedByGrant.get(grantType);
    if (!counter) this.#issuedByGrant.set(grantType, (counter = this.#issued.labels({ grant_type: grantType })));
    counter.inc();
  }

  tokenRefused(error: string): void {
    this.#refused.inc({ error });
  }
}

/** Serves `GET /metrics` of `metrics` on its own port; resolves with the bound port. */
export function serveMetrics(metrics: ServerMetrics, port: number, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' }).end(text),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({ server, port: (server.address() as AddressInfo).port });
    });
  });
}

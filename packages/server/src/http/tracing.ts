import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Span, Tracer } from '@opentelemetry/api';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * OpenTelemetry traces (issue 13 item 5), when an OTLP endpoint is configured: one span per HTTP request (method,
 * route, status, the authenticated client's id), a child of the caller's span when the request carries a W3C
 * `traceparent`, with a child span per store call and per signature (`sign`: algorithm and kid) made while answering it. Never a
 * token, a secret, a header, a query string or a store call's arguments: only names, routes, statuses and client ids.
 *
 * The OpenTelemetry packages are imported here, lazily, and only when tracing is configured: a server without the
 * setting loads none of them (idle memory, issue 13 item 3; a test holds this).
 */

export interface TracingSettings {
  /** The OTLP/HTTP base URL; spans are POSTed as JSON to `<endpoint>/v1/traces`. */
  endpoint: string;
  serviceName: string;
}

export interface RequestTracing {
  /** Runs node's request handler inside the request's span (so store calls made for it become its children). */
  wrapHandler(handler: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void;
  /** Fastify `onResponse`: names the span after the route and records the status and client. */
  onResponse(request: FastifyRequest, reply: FastifyReply, done: () => void): void;
  /** Runs `fn` in a span named `name` under the current request's span (none outside a request): signing, for one. */
  span<T>(name: string, attributes: Record<string, string>, fn: () => T): T;
  /** The object with every method that returns a promise traced as `<prefix>.<method>` under the current request's span. */
  traced<T extends object>(target: T, prefix: string, attributes?: Record<string, string>): T;
  /** Exports what is still queued, then stops. */
  shutdown(): Promise<void>;
}

/** The OTLP traces URL of a base endpoint (OTel spec: the signal path is appended to OTEL_EXPORTER_OTLP_ENDPOINT). */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/$/, '')}/v1/traces`;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/**
 * The caller's span in a W3C `traceparent` header (Trace Context §3.2), or null when absent or malformed (then the
 * request starts a trace of its own). Version `ff` and all-zero ids are invalid; a later version may add fields.
 */
export function parseTraceparent(header: string | string[] | undefined): { traceId: string; spanId: string; traceFlags: number } | null {
  if (typeof header !== 'string') return null;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return null;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || (version === '00' && header.trim().length !== 55)) return null;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return null;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & 1 };
}

export async function startTracing(settings: TracingSettings): Promise<RequestTracing> {
  const [api, sdk, exporterModule, resources] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
  ]);
  const exporter = new exporterModule.OTLPTraceExporter({ url: tracesUrl(settings.endpoint) });
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': settings.serviceName }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter, scheduledDelayMillis: 1000 })],
  });
  // Not registered globally: an embedder's own OpenTelemetry setup stays theirs.
  const tracer: Tracer = provider.getTracer('mandate');
  const current = new AsyncLocalStorage<Span>();
  const spans = new WeakMap<IncomingMessage, Span>();

  return {
    wrapHandler(handler) {
      return (req, res) => {
        // Named for the method until the route is known; the path's query (codes, tokens) is never recorded.
        // A caller's trace continues here (W3C Trace Context): its span is this one's parent.
        const caller = parseTraceparent(req.headers.traceparent);
        const parent = caller ? api.trace.setSpanContext(api.ROOT_CONTEXT, { ...caller, isRemote: true }) : api.ROOT_CONTEXT;
        const span = tracer.startSpan(`${req.method ?? 'HTTP'}`, { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '' } }, parent);
        spans.set(req, span);
        // onResponse ends the span once it knows the route and status; a connection cut before any response has no
        // onResponse, so the span ends here instead (a turn later, so that onResponse goes first when it runs).
        res.once('close', () => setImmediate(() => span.isRecording() && span.end()));
        current.run(span, () => handler(req, res));
      };
    },
    onResponse(request, reply, done) {
      const span = spans.get(request.raw);
      if (span) {
        const route = request.routeOptions.url;
        if (route !== undefined) {
          span.updateName(`${request.method} ${route}`);
          span.setAttribute('http.route', route);
        }
        span.setAttribute('http.response.status_code', reply.statusCode);
        if (request.authenticatedClientId !== undefined) span.setAttribute('client_id', request.authenticatedClientId);
        if (reply.statusCode >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
        span.end();
      }
      done();
    },
    span<T>(name: string, attributes: Record<string, string>, fn: () => T): T {
      const parent = current.getStore();
      if (parent === undefined) return fn();
      const span = tracer.startSpan(name, { attributes }, api.trace.setSpan(api.ROOT_CONTEXT, parent));
      const failed = (err: unknown): never => {
        span.setStatus({ code: api.SpanStatusCode.ERROR });
        span.end();
        throw err;
      };
      let result: T;
      try {
        result = fn();
      } catch (err) {
        return failed(err);
      }
      // An external signer answers later: the span lasts until it does.
      if (result instanceof Promise) return result.then((value) => (span.end(), value), failed) as T;
      span.end();
      return result;
    },
    traced(target, prefix, attributes = {}) {
      return new Proxy(target, {
        get(object, property, receiver) {
          const value = Reflect.get(object, property, receiver);
          if (typeof value !== 'function' || typeof property !== 'string') return value;
          return function tracedCall(this: unknown, ...args: unknown[]) {
            const parent = current.getStore();
            const span = parent && tracer.startSpan(`${prefix}.${property}`, { attributes }, api.trace.setSpan(api.context.active(), parent));
            const result = value.apply(this === receiver ? object : this, args);
            if (span === undefined) return result;
            if (!(result instanceof Promise)) {
              span.end();
              return result;
            }
            return result.then(
              (resolved) => {
                span.end();
                return resolved;
              },
              (err: unknown) => {
                span.setStatus({ code: api.SpanStatusCode.ERROR });
                span.end();
                throw err;
              },
            );
          };
        },
      });
    },
    shutdown: () => provider.shutdown(),
  };
}

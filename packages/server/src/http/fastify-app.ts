import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import Fastify, { type FastifyHttpOptions, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { MandateConfig } from '../config.ts';
import { trustProxyOption } from './client-address.ts';
import { clientErrorHandler } from './client-error.ts';
import { corsHeaders, preflightHandler } from './cors.ts';
import { errorResponse } from './error-response.ts';
import { inputGuardHooks } from './input-guard.ts';
import type { ServerMetrics } from './metrics.ts';
import type { RequestTracing } from './tracing.ts';
import { Problem } from './problem.ts';
import { BASE_HEADERS, type RouteHooks } from './route-guards.ts';
import type { ErrorFormat, RouteAccess, RouteDefinition } from './route.ts';

/** Fastify's own dependencies, resolved from where Fastify is (they are not ours to name in package.json). */
const fastifyRequire = createRequire(createRequire(import.meta.url).resolve('fastify'));

/** One of Fastify's compiler factories, required (and built, once) at its first use. */
function fastifyCompilers(name: string): (...args: unknown[]) => ReturnType<NodeJS.Require> {
  let factory: ((...args: unknown[]) => ReturnType<NodeJS.Require>) | undefined;
  return (...args) => (factory ??= fastifyRequire(name)())(...args);
}

/** What the app registered, for the deny-by-default test and for operators' curiosity. */
export interface RegisteredRoute {
  method: string;
  url: string;
  access: RouteAccess;
}

declare module 'fastify' {
  interface FastifyInstance {
    routeTable: readonly RegisteredRoute[];
  }
}

export interface HttpAppOptions {
  /** Serve on an existing node:http server (so the port is known before the issuer is). */
  server?: Server;
  /** Counts and times every answered request (metrics.ts); absent, nothing is counted. */
  metrics?: Pick<ServerMetrics, 'onResponse'>;
  /** True once the server is shutting down: each response then closes its connection, so that draining ends. */
  draining?: () => boolean;
  /** Where the JSON log lines go (default stdout): for embedders and for the test that reads them. */
  logStream?: { write(line: string): void };
  /** A span per request, when OpenTelemetry tracing is configured (tracing.ts). */
  tracing?: Pick<RequestTracing, 'wrapHandler' | 'onResponse'>;
}

/** A caller's `X-Request-Id` is kept when it is a plausible id; anything else gets one of ours. */
const REQUEST_ID = /^[\w.:@-]{1,128}$/;

/** Log fields of a request: never its query (an upstream callback's `code`) nor its headers (credentials, cookies). */
function requestLogFields(request: { method: string; url?: string }): Record<string, unknown> {
  return { method: request.method, path: request.url?.split('?')[0] };
}

/**
 * The Fastify app for a list of routes: body parsing with a hard size limit, deny-by-default route access (each
 * access kind brings its hooks), one error handler per error format, and 404/405 as problem+json. Handlers never
 * see a stack trace escape.
 */
export async function createHttpApp(
  config: Pick<MandateConfig, 'issuer' | 'logLevel' | 'logRequests' | 'http'>,
  routes: readonly RouteDefinition[],
  hooks: Record<RouteAccess, RouteHooks>,
  options: HttpAppOptions = {},
): Promise<FastifyInstance> {
  const issuerPath = new URL(config.issuer).pathname.replace(/\/$/, '');
  // Request ids name their instance, so that the logs of several instances behind one proxy never share an id.
  const instance = randomBytes(4).toString('hex');
  let requests = 0;
  // The error format of each route's path, for what node's parser refuses before a route is found (client-error.ts).
  const oauthPaths = new Set(routes.filter((route) => route.errorFormat === 'oauth').map((route) => (route.fromOrigin ? route.url : `${issuerPath}${route.url}`)));
  const fastifyOptions: FastifyHttpOptions<Server> = {
    logger:
      config.logLevel === 'silent'
        ? false
        : {
            level: config.logLevel,
            base: { pid: process.pid, instance },
            serializers: { req: requestLogFields },
            redact: ['req.headers.authorization', 'req.headers.cookie'],
            ...(options.logStream ? { stream: options.logStream } : {}),
          },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : `${instance}-${(requests += 1).toString(36)}`;
    },
    // Fastify's own per-request lines cost more than the token logic itself; `logRequests` writes one line instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: trustProxyOption(config.http.trustProxy),
    return503OnClosing: true,
    clientErrorHandler: clientErrorHandler((path) => (path !== undefined && oauthPaths.has(path) ? 'oauth' : 'problem')),
    // A path whose percent-encoding is not UTF-8 fails in the router, before any hook: answered like any other bad
    // input (problem+json, SR-11), not with Fastify's own error body (found by `npm run fuzz`).
    frameworkErrors: (error, _request, frameworkReply) => {
      const reply = frameworkReply as unknown as FastifyReply;
      const cause = error.code === 'FST_ERR_BAD_URL' ? new Problem('invalid-request', 'the path is not valid percent-encoded UTF-8') : error;
      const response = errorResponse(cause, 'problem', config.http.bodyLimitBytes);
      return reply.code(response.status).headers(response.headers).header('cache-control', 'no-store').type(response.contentType).send(response.body);
    },
    // No route declares a JSON schema (bodies are checked with zod), so Fastify's schema compilers (ajv,
    // fast-json-stringify: ~100 modules) are loaded only if one ever does, rather than at start.
    schemaController: {
      compilersFactory: {
        buildValidator: fastifyCompilers('@fastify/ajv-compiler'),
        buildSerializer: fastifyCompilers('@fastify/fast-json-stringify-compiler'),
      },
    },
  };
  const { server, tracing } = options;
  if (server) fastifyOptions.serverFactory = (handler) => server.on('request', tracing ? tracing.wrapHandler(handler) : handler);
  const app = Fastify(fastifyOptions);

  // Bodies: form (OAuth endpoints) and JSON (admin API); anything else is refused before a handler runs.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  const { draining, metrics } = options;
  // At sending time, so that a request already under way when shutdown began also closes its connection.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (draining?.()) reply.header('connection', 'close');
    done(null, payload);
  });
  if (metrics) app.addHook('onResponse', metrics.onResponse);
  if (tracing) app.addHook('onResponse', tracing.onResponse);
  if (config.logRequests) {
    app.addHook('onResponse', (request, reply, done) => {
      const fields = { ...requestLogFields(request), route: request.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100, ip: request.ip };
      request.log.info(fields, 'request');
      done();
    });
  }

  // Text the store cannot hold (a NUL, an unpaired surrogate) is refused before any route hook or handler (SR-11).
  const inputGuard = inputGuardHooks(config.issuer);
  app.addHook('onRequest', inputGuard.onRequest);
  app.addHook('preValidation', inputGuard.preValidation);

  const methodsByUrl = new Map<string, Set<string>>();
  const routeTable: RegisteredRoute[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    // Deny by default: a route that does not say who may call it never gets registered.
    const access = route.config?.access;
    if (!access) throw new Error(`route ${route.method} ${route.url} declares no access`);
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      methodsByUrl.set(route.url, (methodsByUrl.get(route.url) ?? new Set()).add(method));
      routeTable.push({ method, url: route.url, access });
    }
  });

  app.setErrorHandler((err, request, reply) => {
    const format: ErrorFormat = request.routeOptions.config?.errorFormat ?? 'problem';
    const response = errorResponse(err, format, config.http.bodyLimitBytes);
    if (response.unexpected) request.log.error({ err }, 'unhandled error');
    if (response.unavailable) request.log.warn({ err }, 'database unavailable: answered 503');
    return reply.code(response.status).headers(response.headers).header('cache-control', 'no-store').type(response.contentType).send(response.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = [...methodsByUrl.entries()].find(([url]) => url === path)?.[1];
    const problem = allowed ? new Problem('method-not-allowed', `use ${[...allowed].join(', ')}`) : new Problem('not-found', `no route ${request.method} ${path}`);
    if (allowed) reply.header('allow', [...allowed].join(', '));
    return reply.code(problem.status).headers(BASE_HEADERS).type('application/problem+json; charset=utf-8').send(JSON.stringify(problem.toJSON()));
  });

  const corsMethodsByUrl = new Map<string, string[]>();
  for (const route of routes) {
    const url = route.fromOrigin ? route.url : `${issuerPath}${route.url}`;
    if (route.cors && (route.access === 'admin' || route.access === 'browser')) throw new Error(`route ${route.method} ${url} is ${route.access}: never CORS`);
    if (route.cors) corsMethodsByUrl.set(url, [...(corsMethodsByUrl.get(url) ?? []), route.method]);
    app.route({
      method: route.method,
      url,
      config: { access: route.access, errorFormat: route.errorFormat, ...(route.adminRoles ? { adminRoles: route.adminRoles } : {}), ...(route.anonymousForm ? { anonymousForm: true } : {}) },
      onRequest: route.cors ? [...hooks[route.access].onRequest, corsHeaders] : hooks[route.access].onRequest,
      preHandler: hooks[route.access].preHandler,
      handler: route.handler,
    });
  }
  // CORS preflights, answered for exactly the URLs of CORS routes (a preflight carries no credentials, so it is public).
  for (const [url, methods] of corsMethodsByUrl) {
    app.route({ method: 'OPTIONS', url, config: { access: 'public', errorFormat: 'oauth' }, onRequest: hooks.public.onRequest, handler: preflightHandler(methods) });
  }
  await app.ready();
  return app;
}

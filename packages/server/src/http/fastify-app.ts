import type { Server } from 'node:http';
import Fastify, { type FastifyHttpOptions, type FastifyInstance, LogController } from 'fastify';
import type { MandateConfig } from '../config.ts';
import { trustProxyOption } from './client-address.ts';
import { corsHeaders, preflightHandler } from './cors.ts';
import { errorResponse } from './error-response.ts';
import { inputGuardHooks } from './input-guard.ts';
import { Problem } from './problem.ts';
import type { RouteHooks } from './route-guards.ts';
import type { ErrorFormat, RouteAccess, RouteDefinition } from './route.ts';

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
}

/**
 * The Fastify app for a list of routes: body parsing with a hard size limit, deny-by-default route access (each
 * access kind brings its hooks), one error handler per error format, and 404/405 as problem+json. Handlers never
 * see a stack trace escape.
 */
export async function createHttpApp(
  config: Pick<MandateConfig, 'issuer' | 'logLevel' | 'http'>,
  routes: readonly RouteDefinition[],
  hooks: Record<RouteAccess, RouteHooks>,
  options: HttpAppOptions = {},
): Promise<FastifyInstance> {
  const issuerPath = new URL(config.issuer).pathname.replace(/\/$/, '');
  const fastifyOptions: FastifyHttpOptions<Server> = {
    logger: config.logLevel === 'silent' ? false : { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    // Per-request log lines cost more than the token logic itself; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: trustProxyOption(config.http.trustProxy),
    return503OnClosing: true,
  };
  const { server } = options;
  if (server) fastifyOptions.serverFactory = (handler) => server.on('request', handler);
  const app = Fastify(fastifyOptions);

  // Bodies: form (OAuth endpoints) and JSON (admin API); anything else is refused before a handler runs.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body));

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
    return reply.code(response.status).headers(response.headers).header('cache-control', 'no-store').type(response.contentType).send(response.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = [...methodsByUrl.entries()].find(([url]) => url === path)?.[1];
    const problem = allowed ? new Problem('method-not-allowed', `use ${[...allowed].join(', ')}`) : new Problem('not-found', `no route ${request.method} ${path}`);
    if (allowed) reply.header('allow', [...allowed].join(', '));
    return reply.code(problem.status).type('application/problem+json; charset=utf-8').send(JSON.stringify(problem.toJSON()));
  });

  const corsMethodsByUrl = new Map<string, string[]>();
  for (const route of routes) {
    const url = route.fromOrigin ? route.url : `${issuerPath}${route.url}`;
    if (route.cors && (route.access === 'admin' || route.access === 'browser')) throw new Error(`route ${route.method} ${url} is ${route.access}: never CORS`);
    if (route.cors) corsMethodsByUrl.set(url, [...(corsMethodsByUrl.get(url) ?? []), route.method]);
    app.route({
      method: route.method,
      url,
      config: { access: route.access, errorFormat: route.errorFormat },
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

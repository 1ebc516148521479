import type { Server } from 'node:http';
import Fastify, { type FastifyHttpOptions, type FastifyInstance, LogController } from 'fastify';
import { adminTokenRoutes } from './endpoints/admin/admin-tokens.ts';
import { adminAgentRoutes } from './endpoints/admin/agents.ts';
import { adminAuditAndKeyRoutes } from './endpoints/admin/audit-and-keys.ts';
import { adminResourceRoutes } from './endpoints/admin/resources.ts';
import { adminClientRoutes } from './endpoints/admin/clients.ts';
import { adminUserRoutes } from './endpoints/admin/users.ts';
import { accountEndpoints } from './endpoints/account.ts';
import { authorizationEndpoints } from './endpoints/authorize.ts';
import { loginEndpoints } from './endpoints/login.ts';
import { passkeyEndpoints } from './endpoints/passkeys.ts';
import { upstreamLoginEndpoints } from './endpoints/upstream-login.ts';
import { staticAssetRoutes } from './endpoints/static-assets.ts';
import { userinfoEndpoints } from './endpoints/userinfo.ts';
import { introspectionEndpoint } from './endpoints/introspect.ts';
import { jwksEndpoint, metadataEndpoints } from './endpoints/metadata.ts';
import { revocationEndpoint } from './endpoints/revoke.ts';
import type { ErrorFormat, RouteAccess, RouteDefinition } from './http/route.ts';
import { tokenEndpoint } from './endpoints/token.ts';
import { authorizationCodeGrant } from './grants/authorization-code.ts';
import { clientCredentialsGrant } from './grants/client-credentials.ts';
import type { Grant } from './grants/grant.ts';
import { refreshTokenGrant } from './grants/refresh-token.ts';
import { tokenExchangeGrant } from './grants/token-exchange.ts';
import type { UserTokenDeps } from './grants/user-tokens.ts';
import { BrowserSessions } from './http/browser-session.ts';
import { routeHooksByAccess } from './http/route-guards.ts';
import { endpointPaths, endpointUrl, userEndpointPaths } from './http/context.ts';
import { authorizationFlow } from './flows/authorize.ts';
import { introspectionFlow } from './flows/introspection.ts';
import { revocationFlow } from './flows/revocation.ts';
import type { ClientAuthDeps } from './oauth/client-authentication.ts';
import type { ServerContext } from './http/context.ts';
import { errorResponse } from './http/error-response.ts';
import { Problem } from './http/problem.ts';
import { trustProxyOption } from './http/client-address.ts';

/** Every route the server serves, with its access declaration. The only place grants meet their dependencies. */
export function defineRoutes(ctx: ServerContext): RouteDefinition[] {
  const sessions = new BrowserSessions(ctx.store, ctx.config, ctx.now);
  const userTokens: UserTokenDeps = {
    keys: ctx.keys,
    issuer: ctx.config.issuer,
    userinfoUrl: endpointUrl(ctx.config.issuer, userEndpointPaths.userinfo),
    defaultAccessTokenTtlSeconds: ctx.config.tokens.accessTokenTtlSeconds,
    maxAccessTokenTtlSeconds: ctx.config.tokens.maxAccessTokenTtlSeconds,
    idTokenTtlSeconds: ctx.config.authorization.idTokenTtlSeconds,
    refreshTokenIdleTtlSeconds: ctx.config.authorization.refreshTokenIdleTtlSeconds,
    refreshTokens: ctx.store,
  };
  const tokenStatus = { revocations: ctx.store, clients: ctx.store, grants: ctx.store, users: ctx.store };
  const clientAuth: ClientAuthDeps = {
    clients: ctx.store,
    replay: ctx.store,
    issuer: ctx.config.issuer,
    assertionAudiences: Object.values(endpointPaths).map((path) => endpointUrl(ctx.config.issuer, path)),
    clockSkewSeconds: ctx.config.tokens.clockSkewSeconds,
    clientAssertionMaxTtlSeconds: ctx.config.tokens.clientAssertionMaxTtlSeconds,
  };
  const grants = new Map<string, Grant>();
  const introspection = introspectionFlow({ resources: ctx.store, adminTokens: ctx.store, clientAuth, keys: ctx.keys, issuer: ctx.config.issuer, status: tokenStatus });
  const authorization = authorizationFlow({
    clients: ctx.store,
    resources: ctx.store,
    consents: ctx.store,
    grants: ctx.store,
    pending: ctx.store,
    audit: ctx.audit,
    issuer: ctx.config.issuer,
    lifetimes: { ...ctx.config.authorization, maxAccessTokenTtlSeconds: ctx.config.tokens.maxAccessTokenTtlSeconds },
  });
  const revocation = revocationFlow({ grants: ctx.store, revocations: ctx.store, keys: ctx.keys, issuer: ctx.config.issuer, audit: ctx.audit });
  for (const grant of [
    clientCredentialsGrant({
      resources: ctx.store,
      keys: ctx.keys,
      issuer: ctx.config.issuer,
      defaultAccessTokenTtlSeconds: ctx.config.tokens.accessTokenTtlSeconds,
      maxAccessTokenTtlSeconds: ctx.config.tokens.maxAccessTokenTtlSeconds,
    }),
    authorizationCodeGrant({ ...userTokens, grants: ctx.store, users: ctx.store, clients: ctx.store, status: tokenStatus, audit: ctx.audit }),
    refreshTokenGrant({ ...userTokens, grants: ctx.store, users: ctx.store, clients: ctx.store, audit: ctx.audit }),
    tokenExchangeGrant({
      keys: ctx.keys,
      issuer: ctx.config.issuer,
      clients: ctx.store,
      resources: ctx.store,
      grants: ctx.store,
      status: tokenStatus,
      defaultAccessTokenTtlSeconds: ctx.config.tokens.accessTokenTtlSeconds,
      maxAccessTokenTtlSeconds: ctx.config.tokens.maxAccessTokenTtlSeconds,
      maxChainDepth: ctx.config.delegation.maxChainDepth,
      allowImpersonation: ctx.config.delegation.allowImpersonation,
    }),
  ]) {
    grants.set(grant.grantType, grant);
  }

  return [
    ...metadataEndpoints(ctx, grants),
    jwksEndpoint(ctx),
    tokenEndpoint({ grants, clientAuth, audit: ctx.audit, refusals: ctx.refusals, rateLimit: ctx.config.rateLimit, now: ctx.now }),
    introspectionEndpoint(introspection, ctx.now),
    revocationEndpoint(revocation, { clientAuth, now: ctx.now }),
    { method: 'GET', url: '/healthz', access: 'public', errorFormat: 'problem', handler: async (_r, reply) => reply.send({ status: 'ok' }) },
    ...adminAgentRoutes(ctx),
    ...adminResourceRoutes(ctx),
    ...adminAuditAndKeyRoutes(ctx),
    ...adminTokenRoutes(ctx),
    ...adminUserRoutes(ctx),
    ...adminClientRoutes(ctx),
    ...userinfoEndpoints(ctx),
    ...authorizationEndpoints(ctx.config.issuer, authorization, sessions, ctx.now),
    ...loginEndpoints(ctx, sessions),
    ...accountEndpoints(ctx, sessions),
    ...passkeyEndpoints(ctx, sessions),
    ...upstreamLoginEndpoints(ctx, sessions),
    ...staticAssetRoutes(),
  ];
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

export interface BuildAppOptions {
  /** Serve on an existing node:http server (so the port is known before the issuer is). */
  server?: Server;
}

/**
 * Assembles the Fastify app: body parsing with a hard size limit, deny-by-default route access, one error
 * handler per error format, and security headers. Handlers never see a stack trace escape.
 */
export async function buildApp(ctx: ServerContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const { config } = ctx;
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

  const hooks = routeHooksByAccess(ctx, new BrowserSessions(ctx.store, ctx.config, ctx.now));

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

  for (const route of defineRoutes(ctx)) {
    app.route({
      method: route.method,
      url: route.fromOrigin ? route.url : `${issuerPath}${route.url}`,
      config: { access: route.access, errorFormat: route.errorFormat },
      onRequest: hooks[route.access].onRequest,
      preHandler: hooks[route.access].preHandler,
      handler: route.handler,
    });
  }
  await app.ready();
  return app;
}

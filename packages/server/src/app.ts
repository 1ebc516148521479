import type { FastifyInstance } from 'fastify';
import { consoleRoutes } from './endpoints/console/console-routes.ts';
import { healthEndpoints } from './endpoints/health.ts';
import { BrowserSessions } from './http/browser-session.ts';
import { createHttpApp, type HttpAppOptions } from './http/fastify-app.ts';
import { routeHooksByAccess } from './http/route-guards.ts';
import type { RouteDefinition } from './http/route.ts';
import type { Store } from './store/store.ts';
import { adminRoutes } from './app/admin-routes.ts';
import { browserRoutes } from './app/browser-routes.ts';
import { authorizationRequests, oauthRoutes } from './app/oauth-routes.ts';
import type { ServerContext } from './app/server-context.ts';

export type { ServerContext } from './app/server-context.ts';

/**
 * The composition root: with its parts in app/, the only module that imports every endpoint, grant and flow. Each
 * of them declares the narrow dependencies it calls (store slices as `Pick<…Records, …>`, settings, the key ring);
 * this is where they meet the one store, the configuration and each other. Nothing else holds the whole store.
 * By area: app/oauth-routes.ts (the OAuth endpoints and their flows), app/token-grants.ts (the token endpoint's
 * grants), app/browser-routes.ts (the pages a person sees), app/admin-routes.ts (the admin API); the console and the
 * health checks are assembled here.
 */

/** Every route the server serves, each with its access declaration, assembled with its dependencies. */
export function defineRoutes(ctx: ServerContext, store: Store, sessions: BrowserSessions): RouteDefinition[] {
  const requests = authorizationRequests(ctx, store);
  const oauth = oauthRoutes(ctx, store, requests);
  return [
    ...oauth.routes,
    ...healthEndpoints({ store, keys: ctx.keys, draining: ctx.draining }),
    ...adminRoutes(ctx, store, oauth.exchange),
    // The admin console (issue 12 item 6): pages behind the user login, another face of management/.
    ...consoleRoutes({ issuer: ctx.config.issuer, sessions, store, audit: ctx.audit, config: ctx.config, keys: ctx.keys, now: ctx.now, draining: ctx.draining }),
    ...browserRoutes(ctx, store, sessions, requests),
  ];
}

/** The server's HTTP app over `store`: routes, and the guards each route's access kind brings. */
export async function buildApp(ctx: ServerContext, store: Store, options: HttpAppOptions = {}): Promise<FastifyInstance> {
  const sessions = new BrowserSessions(store, ctx.config, ctx.now);
  const hooks = routeHooksByAccess({ issuer: ctx.config.issuer, refusals: ctx.refusals, adminTokens: store }, sessions);
  return createHttpApp(ctx.config, defineRoutes(ctx, store, sessions), hooks, { metrics: ctx.metrics, draining: ctx.draining, ...options });
}

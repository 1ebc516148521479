import type { FastifyRequest } from 'fastify';
import type { ClientRegistrationFlow } from '../flows/client-registration.ts';
import { endpointPaths } from '../http/endpoint-paths.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import type { RouteDefinition } from '../http/route.ts';
import { bearerCredential } from '../oauth/bearer-token.ts';
import { tooManyRequests } from '../oauth/oauth-error.ts';
import { sendNoStoreJson } from './oauth-response.ts';

/**
 * RFC 7591 §3 registration endpoint (`POST /register`, JSON) and RFC 7592 §2 client configuration endpoint
 * (`GET|PUT|DELETE /register/{client_id}` with the registration access token as a Bearer token). Rate-limited per
 * address; answers carry credentials, so none is cached. CORS is allowed (no credentials): browser-based MCP clients
 * register themselves.
 */
export interface RegistrationEndpointDeps {
  perIpPerMinute: number;
  now(): number;
}

const bearer = (request: FastifyRequest) =>
  bearerCredential(typeof request.headers.authorization === 'string' ? request.headers.authorization : undefined) ?? null;

const clientIdParam = (request: FastifyRequest) => (request.params as { clientId: string }).clientId;

export function registrationEndpoints(flow: ClientRegistrationFlow, deps: RegistrationEndpointDeps): RouteDefinition[] {
  // On the injected clock, so the refill is what the server's clock says, not the machine's.
  const perIp = new RateLimiter(deps.perIpPerMinute, () => deps.now() * 1000);
  const limited = (request: FastifyRequest) => {
    const refusal = perIp.take(request.ip);
    if (refusal) throw tooManyRequests('registration requests', refusal.retryAfter, 'rate limited by address');
  };
  const path = endpointPaths.registration;
  const route = (method: RouteDefinition['method'], url: string, handler: RouteDefinition['handler']): RouteDefinition => ({
    method,
    url,
    access: 'oauth',
    errorFormat: 'oauth',
    cors: true,
    async handler(request, reply) {
      limited(request);
      return handler(request, reply);
    },
  });
  return [
    route('POST', path, async (request, reply) => {
      flow.checkInitialAccessToken(bearer(request));
      return sendNoStoreJson(reply, 201, await flow.register({ body: request.body, ip: request.ip, now: deps.now() }));
    }),
    route('GET', `${path}/:clientId`, async (request, reply) => sendNoStoreJson(reply, 200, await flow.read(clientIdParam(request), bearer(request)))),
    route('PUT', `${path}/:clientId`, async (request, reply) =>
      sendNoStoreJson(reply, 200, await flow.update({ clientId: clientIdParam(request), token: bearer(request), body: request.body, ip: request.ip, now: deps.now() })),
    ),
    route('DELETE', `${path}/:clientId`, async (request, reply) => {
      await flow.remove({ clientId: clientIdParam(request), token: bearer(request), ip: request.ip, now: deps.now() });
      return reply.code(204).header('cache-control', 'no-store').send();
    }),
  ];
}

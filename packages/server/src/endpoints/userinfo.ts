import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerCredential } from '../oauth/bearer-token.ts';
import type { ServerContext } from '../http/context.ts';
import { endpointUrl, userEndpointPaths } from '../http/context.ts';
import { authorizationHeader } from '../http/request-form.ts';
import { userClaims } from '../tokens/id-token.ts';
import { verifyActiveAccessToken } from '../tokens/own-token.ts';
import { sendNoStoreJson } from './oauth-response.ts';
import type { RouteDefinition } from '../http/route.ts';

/**
 * OIDC Core §5.3 UserInfo. The access token must be ours, active, meant for this endpoint (its `aud` names the
 * userinfo URL: tokens for a resource server are not accepted here, RFC 9700 §4.10), carry `openid`, and be
 * about a user. Errors are RFC 6750 §3 challenges; the token is taken from the Authorization header only.
 */
export function userinfoEndpoints(ctx: ServerContext): RouteDefinition[] {
  const url = endpointUrl(ctx.config.issuer, userEndpointPaths.userinfo);
  const challenge = (reply: FastifyReply, status: number, error?: string, description?: string) => {
    const params = [`realm="mandate"`, ...(error ? [`error="${error}"`] : []), ...(description ? [`error_description="${description}"`] : [])];
    return reply
      .code(status)
      .header('www-authenticate', `Bearer ${params.join(', ')}`)
      .header('cache-control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(JSON.stringify(error ? { error, ...(description ? { error_description: description } : {}) } : {}));
  };

  async function handler(request: FastifyRequest, reply: FastifyReply) {
    let token: string | undefined;
    try {
      token = bearerCredential(authorizationHeader(request));
    } catch {
      return challenge(reply, 400, 'invalid_request', 'only one Authorization header is allowed');
    }
    if (!token) return challenge(reply, 401);
    const now = ctx.now();
    const result = await verifyActiveAccessToken(token, { keys: ctx.keys, issuer: ctx.config.issuer, now, status: { revocations: ctx.store, clients: ctx.store, grants: ctx.store, users: ctx.store } });
    if (!result.ok) return challenge(reply, 401, 'invalid_token', 'the access token is not valid');
    const { claims } = result;
    const audience = [claims.aud].flat();
    if (!audience.includes(url)) return challenge(reply, 401, 'invalid_token', 'the access token is not meant for userinfo');
    const scopes = (claims.scope ?? '').split(' ');
    if (!scopes.includes('openid')) return challenge(reply, 403, 'insufficient_scope', 'the openid scope is required');
    const user = claims.gid ? await ctx.store.getUser(claims.sub) : null;
    if (!user) return challenge(reply, 401, 'invalid_token', 'the access token is not about a user');
    return sendNoStoreJson(reply, 200, { sub: user.id, ...userClaims(user, scopes) });
  }

  return [
    { method: 'GET', url: userEndpointPaths.userinfo, access: 'oauth', errorFormat: 'oauth', handler },
    { method: 'POST', url: userEndpointPaths.userinfo, access: 'oauth', errorFormat: 'oauth', handler },
  ];
}

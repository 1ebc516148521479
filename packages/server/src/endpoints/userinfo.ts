import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UserinfoFlow } from '../flows/userinfo.ts';
import { userEndpointPaths } from '../http/endpoint-paths.ts';
import { authorizationHeader } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { bearerCredential } from '../oauth/bearer-token.ts';
import { sendNoStoreJson } from './oauth-response.ts';

/** RFC 6750 §3.1: 401 for a missing or bad token, 403 for one without the scope. */
const STATUS = { invalid_request: 400, invalid_token: 401, insufficient_scope: 403 } as const;

/**
 * HTTP face of `flows/userinfo.ts` (OIDC Core §5.3), on GET and POST. The token is taken from the Authorization
 * header only; every refusal is an RFC 6750 §3 challenge.
 */
export function userinfoEndpoints(userinfo: UserinfoFlow, now: () => number): RouteDefinition[] {
  const challenge = (reply: FastifyReply, error?: keyof typeof STATUS, description?: string) => {
    const params = [`realm="mandate"`, ...(error ? [`error="${error}"`] : []), ...(description ? [`error_description="${description}"`] : [])];
    return reply
      .code(error ? STATUS[error] : 401)
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
      return challenge(reply, 'invalid_request', 'only one Authorization header is allowed');
    }
    if (!token) return challenge(reply);
    const result = await userinfo({ token, now: now() });
    if (!result.ok) return challenge(reply, result.error, result.description);
    return sendNoStoreJson(reply, 200, result.claims);
  }

  return [
    { method: 'GET', url: userEndpointPaths.userinfo, access: 'oauth', errorFormat: 'oauth', handler },
    { method: 'POST', url: userEndpointPaths.userinfo, access: 'oauth', errorFormat: 'oauth', handler },
  ];
}

import type { PushedAuthorizationFlow } from '../flows/pushed-authorization.ts';
import { AUTHORIZATION_CODE } from '../flows/authorization-request.ts';
import { endpointPaths } from '../http/endpoint-paths.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import { authorizationHeader, requestForm } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { authenticateClient, type ClientAuthDeps } from '../oauth/client-authentication.ts';
import { checkDpopProof, type DpopDeps, dpopNonceHeader, dpopTokenError } from '../oauth/dpop.ts';
import { tooManyRequests, unauthorizedClient } from '../oauth/oauth-error.ts';
import { sendNoStoreJson } from './oauth-response.ts';

export interface PushedAuthorizationEndpointDeps {
  flow: Pick<PushedAuthorizationFlow, 'push'>;
  /** As at the token endpoint, with this endpoint's URL also accepted as a client assertion's audience (RFC 9126 §2). */
  clientAuth: ClientAuthDeps;
  dpop: DpopDeps;
  /** This endpoint's public URL: the `htu` a DPoP proof must name. */
  endpointUrl: string;
  /** Each request writes a row, public clients' too: requests per minute per address. 0 disables. */
  requestsPerIpPerMinute: number;
  now(): number;
}

/**
 * RFC 9126 §2 pushed authorization request endpoint: `POST` form only (other methods are 404/405 by routing),
 * rate-limited per address (429), the client authenticated as at the token endpoint (401 `invalid_client`), a
 * DPoP proof checked when one is sent (RFC 9449 §10.1), then the flow validates and keeps the request: 201 with
 * `request_uri` and `expires_in`.
 */
export function pushedAuthorizationEndpoint(deps: PushedAuthorizationEndpointDeps): RouteDefinition {
  const perIp = new RateLimiter(deps.requestsPerIpPerMinute, () => deps.now() * 1000);
  return {
    method: 'POST',
    url: endpointPaths.pushedAuthorization,
    access: 'oauth',
    errorFormat: 'oauth',
    cors: true,
    async handler(request, reply) {
      const refusal = perIp.take(request.ip);
      if (refusal) throw tooManyRequests('pushed authorization requests', refusal.retryAfter);
      const params = requestForm(request);
      const now = deps.now();
      const { client } = await authenticateClient({ authorization: authorizationHeader(request), params }, deps.clientAuth, now);
      request.authenticatedClientId = client.clientId;
      if (client.kind !== 'app' || !client.grantTypes.includes(AUTHORIZATION_CODE)) throw unauthorizedClient('this client may not use the authorization code flow');
      let proofJkt: string | undefined;
      const proof = request.headers.dpop;
      if (proof !== undefined) {
        const check = await checkDpopProof({ proof: [proof].flat().join(', '), method: 'POST', url: deps.endpointUrl }, deps.dpop, now);
        if (!check.ok) throw dpopTokenError(check, deps.dpop, now);
        reply.headers(dpopNonceHeader(deps.dpop, now));
        proofJkt = check.jkt;
      }
      return sendNoStoreJson(reply, 201, await deps.flow.push({ client, body: request.body as string, proofJkt, now }));
    },
  };
}

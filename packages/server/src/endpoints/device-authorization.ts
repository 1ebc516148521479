import { GRANT_TYPE_DEVICE_CODE } from '@mandate/protocol';
import { deviceClientRefusal, type DeviceAuthorizationFlow } from '../flows/device-authorization.ts';
import { endpointPaths } from '../http/endpoint-paths.ts';
import { RateLimiter } from '../http/rate-limit.ts';
import type { SharedRateCounts } from '../http/shared-rate-counts.ts';
import { authorizationHeader, requestForm } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { authenticateClient, type ClientAuthDeps } from '../oauth/client-authentication.ts';
import { tooManyRequests, unauthorizedClient } from '../oauth/oauth-error.ts';
import { sendNoStoreJson } from './oauth-response.ts';

/**
 * RFC 8628 §3.1 device authorization endpoint: `POST` with client authentication as at the token endpoint (or
 * `client_id` alone for a public client), `scope` and `resource`; answers §3.2's JSON. Each request writes a row,
 * so requests are limited per address.
 */
export function deviceAuthorizationEndpoint(deps: {
  flow: DeviceAuthorizationFlow;
  clientAuth: ClientAuthDeps;
  requestsPerIpPerMinute: number;
  now(): number;
  /** With `rateLimit.shared`: the instances on one database count an address's requests together. */
  sharedRateCounts?: SharedRateCounts | undefined;
}): RouteDefinition {
  const shared = deps.sharedRateCounts ? { counts: deps.sharedRateCounts, prefix: 'device-authorization-ip:' } : undefined;
  const perIp = new RateLimiter(deps.requestsPerIpPerMinute, () => deps.now() * 1000, shared);
  return {
    method: 'POST',
    url: endpointPaths.deviceAuthorization,
    access: 'oauth',
    errorFormat: 'oauth',
    cors: true,
    async handler(request, reply) {
      const refusal = perIp.take(request.ip);
      if (refusal) throw tooManyRequests('device authorization requests', refusal.retryAfter);
      const params = requestForm(request);
      params.rejectRepeated(new Set(['resource']));
      const now = deps.now();
      const { client } = await authenticateClient({ authorization: authorizationHeader(request), params }, deps.clientAuth, now);
      request.authenticatedClientId = client.clientId;
      const refused = deviceClientRefusal(client, GRANT_TYPE_DEVICE_CODE);
      if (refused) throw unauthorizedClient(refused);
      return sendNoStoreJson(reply, 200, await deps.flow.requestAuthorization(client, params, request.ip, now));
    },
  };
}

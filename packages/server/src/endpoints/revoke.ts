import type { RevocationFlow } from '../flows/revocation.ts';
import { endpointPaths } from '../http/endpoint-paths.ts';
import { authorizationHeader, requestForm } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { authenticateClient, type ClientAuthDeps } from '../oauth/client-authentication.ts';

/** RFC 7009 §2: POST form → client authentication → the revocation flow → 200 with no body. */
export function revocationEndpoint(flow: RevocationFlow, deps: { clientAuth: ClientAuthDeps; now(): number }): RouteDefinition {
  return {
    method: 'POST',
    url: endpointPaths.revocation,
    access: 'oauth',
    errorFormat: 'oauth',
    cors: true,
    async handler(request, reply) {
      const params = requestForm(request);
      params.rejectRepeated();
      const now = deps.now();
      const { client } = await authenticateClient({ authorization: authorizationHeader(request), params }, deps.clientAuth, now);
      const { token } = flow.parse(params);
      await flow.revoke({ client, token, ip: request.ip, now });
      return reply.code(200).header('cache-control', 'no-store').send();
    },
  };
}

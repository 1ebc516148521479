import { GRANT_TYPE_CIBA } from '@mandate/protocol';
import type { BackchannelAuthenticationFlow } from '../flows/backchannel-authentication.ts';
import { endpointPaths } from '../http/endpoint-paths.ts';
import { authorizationHeader, requestForm } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { authenticateClient, type ClientAuthDeps } from '../oauth/client-authentication.ts';
import { invalidRequest, unauthorizedClient } from '../oauth/oauth-error.ts';
import { sendNoStoreJson } from './oauth-response.ts';


/**
 * OpenID CIBA Core 1.0 §7: the backchannel authentication endpoint. Authenticates the client as the token endpoint
 * does (a confidential client allowed the CIBA grant), hands the form to the flow, answers §7.3's JSON.
 */
export function backchannelAuthenticationEndpoint(deps: { flow: BackchannelAuthenticationFlow; clientAuth: ClientAuthDeps; now(): number }): RouteDefinition {
  return {
    method: 'POST',
    url: endpointPaths.backchannelAuthentication,
    access: 'oauth',
    errorFormat: 'oauth',
    async handler(request, reply) {
      const params = requestForm(request);
      params.rejectRepeated(new Set(['resource']));
      const now = deps.now();
      const { client, method } = await authenticateClient({ authorization: authorizationHeader(request), params }, deps.clientAuth, now);
      if (method === 'none') throw invalidRequest('CIBA needs a confidential client');
      if (!client.grantTypes.includes(GRANT_TYPE_CIBA)) throw unauthorizedClient(`this client may not use ${GRANT_TYPE_CIBA}`);
      return sendNoStoreJson(reply, 200, await deps.flow.authenticate(client, params, request.ip, now));
    },
  };
}

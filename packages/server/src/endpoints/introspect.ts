import type { IntrospectionFlow } from '../flows/introspection.ts';
import { endpointPaths } from '../http/endpoint-paths.ts';
import { authorizationHeader, requestForm } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { sendNoStoreJson } from './oauth-response.ts';

/** RFC 7662 §2: POST form → the introspection flow → its JSON answer (never cached). */
export function introspectionEndpoint(flow: IntrospectionFlow, now: () => number): RouteDefinition {
  return {
    method: 'POST',
    url: endpointPaths.introspection,
    access: 'oauth',
    errorFormat: 'oauth',
    async handler(request, reply) {
      const params = requestForm(request);
      params.rejectRepeated();
      const at = now();
      const caller = await flow.authenticateCaller({ authorization: authorizationHeader(request), params }, at);
      const { token } = flow.parse(params);
      return sendNoStoreJson(reply, 200, await flow.introspect({ caller, token, now: at }));
    },
  };
}

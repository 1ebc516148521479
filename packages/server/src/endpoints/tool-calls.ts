import type { ToolCallAuditFlow } from '../flows/tool-call-audit.ts';
import { authorizationHeader } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { requireResource } from '../oauth/resource-authentication.ts';
import type { ResourceRecords } from '../store/store.ts';
import { sendNoStoreJson } from './oauth-response.ts';

/** Where a resource server reports the tool calls it served or refused (issue 12 item 7). */
export const TOOL_CALLS_PATH = '/tool-calls';

/** POST /tool-calls, JSON `{calls: [...]}`, authenticated by the resource's API key: 200 `{recorded: n}`. */
export function toolCallsEndpoint(deps: { flow: ToolCallAuditFlow; resources: Pick<ResourceRecords, 'getResourceByApiKeyId'>; now(): number }): RouteDefinition {
  return {
    method: 'POST',
    url: TOOL_CALLS_PATH,
    access: 'oauth',
    errorFormat: 'oauth',
    async handler(request, reply) {
      const resource = await requireResource(authorizationHeader(request), deps, deps.now());
      const report = deps.flow.parse(request.body);
      return sendNoStoreJson(reply, 200, { recorded: await deps.flow.record(resource, report, request.ip) });
    },
  };
}

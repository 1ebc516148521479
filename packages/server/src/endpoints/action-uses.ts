import type { ActionUseFlow } from '../flows/action-use.ts';
import { authorizationHeader } from '../http/request-form.ts';
import type { RouteDefinition } from '../http/route.ts';
import { requireResource } from '../oauth/resource-authentication.ts';
import type { ResourceRecords } from '../store/store.ts';
import { sendNoStoreJson } from './oauth-response.ts';

/** Where a resource server records the one use of an action token (issue 12 item 4). */
export const ACTION_USES_PATH = '/action-uses';

/**
 * POST /action-uses, JSON `{token, tool, arguments_sha256}`, authenticated by the resource's API key: 200 with
 * the recorded use the first time; 409 `action_token_used` after; 403 `action_mismatch` when the token approves
 * another call; 401 `invalid_token` for a token that is not alive.
 */
export function actionUsesEndpoint(deps: { flow: ActionUseFlow; resources: Pick<ResourceRecords, 'getResourceByApiKeyId'>; now(): number }): RouteDefinition {
  return {
    method: 'POST',
    url: ACTION_USES_PATH,
    access: 'oauth',
    errorFormat: 'oauth',
    async handler(request, reply) {
      const now = deps.now();
      const resource = await requireResource(authorizationHeader(request), deps, now);
      return sendNoStoreJson(reply, 200, await deps.flow.recordUse(resource, deps.flow.parse(request.body), now));
    },
  };
}

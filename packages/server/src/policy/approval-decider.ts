import type { ResourceRecord } from '../store/store.ts';
import { isOidcScope } from './oidc-scopes.ts';
import { effectivePolicy } from './scope-policy.ts';

/**
 * Whether the user on whose behalf an approval request was made may decide it themselves (issue 12 items 2 and 8:
 * "approvers, or the user on whose behalf the agent acts, as the policy says"). The policy says so when every scope
 * it asks for needs no more than that user's consent (`auto` or `user_consent`, e.g. a CIBA request for calendar
 * access) or is `admin_approval` naming the user as approver (`approver: user`); any other scope (`admin_approval`
 * with approvers alone, `role_required`) keeps the decision with approvers. Whatever cannot be checked here goes to
 * approvers too: a resource no longer registered, a scope none of the request's resources defines, and a per-action
 * approval (`authorization_details`, decided by a tool policy).
 */
export function userMayDecide(
  request: { userId: string | null; scopes: readonly string[]; resources: readonly string[]; authorizationDetails?: readonly unknown[] | null | undefined },
  registered: ReadonlyMap<string, ResourceRecord>,
): { ok: true } | { ok: false; why: string } {
  if (request.userId === null) return { ok: false, why: 'the request is made for no user: an approver decides it' };
  if (request.authorizationDetails?.length) return { ok: false, why: 'a single action (authorization_details) is approved by an approver' };
  const resources: ResourceRecord[] = [];
  for (const uri of request.resources) {
    const resource = registered.get(uri);
    if (!resource) return { ok: false, why: `resource ${uri} is not registered: an approver decides` };
    resources.push(resource);
  }
  for (const scope of request.scopes) {
    if (isOidcScope(scope)) continue;
    let defined = false;
    for (const resource of resources) {
      const definition = resource.scopes.find((s) => s.name === scope);
      if (!definition) continue;
      defined = true;
      const policy = effectivePolicy(definition);
      const userDecides = policy.kind === 'auto' || policy.kind === 'user_consent' || (policy.kind === 'admin_approval' && policy.approver === 'user');
      if (!userDecides) {
        return { ok: false, why: `scope ${scope} needs an approver (policy ${policy.kind} at ${resource.uri})` };
      }
    }
    if (!defined) return { ok: false, why: `scope ${scope} is defined by none of the request's resources: an approver decides` };
  }
  return { ok: true };
}

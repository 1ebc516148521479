import type { ResourceRecord } from '../store/store.ts';
import { isOidcScope } from './oidc-scopes.ts';
import { effectivePolicy } from './scope-policy.ts';

/**
 * Whether the user on whose behalf an approval request was made may decide it themselves (issue 12 items 2 and 8:
 * "approvers, or the user on whose behalf the agent acts, as the policy says"). The policy says so when every scope
 * it asks for needs no more than that user's consent (`auto` or `user_consent`, e.g. a CIBA request for calendar
 * access) or is `admin_approval` naming the user as approver (`approver: user`); any other scope (`admin_approval`
 * with approvers alone, `role_required`) keeps the decision with approvers.
 */
export function userMayDecide(
  request: { userId: string | null; scopes: readonly string[]; resources: readonly string[] },
  registered: ReadonlyMap<string, ResourceRecord>,
): { ok: true } | { ok: false; why: string } {
  if (request.userId === null) return { ok: false, why: 'the request is made for no user: an approver decides it' };
  for (const scope of request.scopes) {
    if (isOidcScope(scope)) continue;
    for (const uri of request.resources) {
      const defined = registered.get(uri)?.scopes.find((s) => s.name === scope);
      if (!defined) continue;
      const policy = effectivePolicy(defined);
      const userDecides = policy.kind === 'auto' || policy.kind === 'user_consent' || (policy.kind === 'admin_approval' && policy.approver === 'user');
      if (!userDecides) {
        return { ok: false, why: `scope ${scope} needs an approver (policy ${policy.kind} at ${uri})` };
      }
    }
  }
  return { ok: true };
}

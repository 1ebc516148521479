import { decideGrantLife } from '../lifecycle/token-lifecycle.ts';
import { isOidcScope } from '../policy/oidc-scopes.ts';
import type { ClientRecord, ConsentRecords, ResourceRecord, UserGrantRecords, UserRecords } from '../store/store.ts';
import { type AuthorizationRequest, decideAuthorizationTargets } from './authorization-request.ts';

/**
 * What a user granted a client (and its agent) before, as an authorization request reads it: the consent they
 * asked to have remembered (per resource), and the scopes of their live grants (incremental authorization).
 */

/** How many of the newest live grants an authorization request reads for what was granted before (grantedBefore). */
const RECENT_GRANTS = 8;

export interface GrantedBeforeDeps {
  consents: Pick<ConsentRecords, 'getConsent'>;
  grants: Pick<UserGrantRecords, 'listRecentGrants'>;
  users: Pick<UserRecords, 'getUser'>;
}

/** Consent is keyed per resource; OpenID scopes live under the empty resource. */
export function scopesByResource(auth: { scopes: readonly string[]; resources: readonly string[] }, registered: ReadonlyMap<string, ResourceRecord>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const oidc = auth.scopes.filter(isOidcScope);
  if (oidc.length) out.set('', oidc);
  for (const uri of auth.resources) {
    const defined = registered.get(uri)!.scopes.map((s) => s.name);
    out.set(uri, auth.scopes.filter((s) => !isOidcScope(s) && defined.includes(s)));
  }
  return out;
}

/** Whether the user consented before to every scope that needs consent (the `auto` ones need none). */
export async function consentRemembered(deps: Pick<GrantedBeforeDeps, 'consents'>, auth: AuthorizationRequest, needConsent: readonly string[], userId: string): Promise<boolean> {
  for (const [resource, scopes] of scopesByResource({ scopes: needConsent, resources: auth.resources }, auth.registered)) {
    const consent = await deps.consents.getConsent(userId, auth.client.clientId, auth.actor?.clientId ?? '', resource);
    if (!consent || !scopes.every((s) => consent.scopes.includes(s))) return false;
  }
  return true;
}

/**
 * Incremental authorization: the scopes this user granted this client (and agent) before for the same resources
 * (or, for a request for no resource, for none), in grants still alive and as far as they may still give them
 * (lifecycle/token-lifecycle.ts). Only the newest RECENT_GRANTS live grants are read: every authorization makes
 * a grant, and each is made holding what was granted before (withGrantedBefore), so the newest carry what older
 * ones gave (a user signed in for months would otherwise have every request read thousands). An older grant's scope
 * a policy left out of every newer one is asked for again, never given without asking.
 */
export async function grantedBefore(
  deps: Pick<GrantedBeforeDeps, 'grants' | 'users'>,
  auth: { client: ClientRecord; actor: ClientRecord | null; resources: readonly string[] },
  userId: string,
  now: number,
): Promise<string[]> {
  const actorId = auth.actor?.clientId ?? null;
  const sameTarget = (resources: readonly string[]) => (auth.resources.length === 0 ? resources.length === 0 : resources.some((uri) => auth.resources.includes(uri)));
  const recent = await deps.grants.listRecentGrants(userId, auth.client.clientId, actorId, now, RECENT_GRANTS);
  const earlier = recent.filter((g) => sameTarget(g.resources));
  if (earlier.length === 0) return [];
  const user = await deps.users.getUser(userId);
  const scopes = new Set<string>();
  for (const grant of earlier) {
    const life = decideGrantLife(grant, { user, client: auth.client, agent: auth.actor }, now);
    if (life.alive) for (const scope of life.scopes) scopes.add(scope);
  }
  return [...scopes];
}

/** The request with what was granted before kept beside what it asks for now (the same policy decides both). */
export function withGrantedBefore(auth: AuthorizationRequest, before: readonly string[]): AuthorizationRequest {
  if (before.length === 0) return auth;
  const decision = decideAuthorizationTargets(auth.client, auth.actor, { resources: auth.resources, scopes: auth.requestedScopes }, auth.registered, before);
  return decision.ok ? { ...auth, scopes: decision.scopes, resources: decision.resources } : auth;
}

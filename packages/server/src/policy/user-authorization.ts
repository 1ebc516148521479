import type { ResourceRecord } from '../store/store.ts';
import { isOidcScope } from './oidc-scopes.ts';

/**
 * What a user may be asked to grant a client (and the agent it names), decided from facts (pure):
 * - OpenID scopes (`openid profile email offline_access`) are Mandate's own; `offline_access` is kept only for
 *   clients allowed the `refresh_token` grant (OIDC Core §11: the AS may ignore it) and is otherwise dropped;
 * - every other scope belongs to a resource (RFC 8707): it must be defined by one of the target resources, be in
 *   the client's allowed scopes, and, when an agent is named, in the agent's allowed scopes too: an agent never
 *   receives more through a user than it may hold at all;
 * - targets: the requested resources; with none, the client's only allowed audience, else the one registered
 *   resource that defines every requested scope; anything ambiguous is `invalid_target`;
 * - every target must be registered, allowed for the client (an app with no audience list may use any registered
 *   resource) and for the agent (agents always have an explicit list);
 * - a request must ask for something: `openid` or at least one resource scope.
 */

export interface UserAuthorizationFacts {
  requestedScopes: string[] | undefined;
  requestedResources: string[];
  client: { allowedScopes: readonly string[]; allowedAudiences: readonly string[]; mayRefresh: boolean };
  actor: { allowedScopes: readonly string[]; allowedAudiences: readonly string[] } | null;
  /** Every registered resource, by URI. */
  resources: ReadonlyMap<string, ResourceRecord>;
}

export type UserAuthorizationDecision =
  | { ok: true; scopes: string[]; resources: string[] }
  | { ok: false; error: 'invalid_scope' | 'invalid_target'; description: string };

const fail = (error: 'invalid_scope' | 'invalid_target', description: string): UserAuthorizationDecision => ({ ok: false, error, description });

export function decideUserAuthorization(facts: UserAuthorizationFacts): UserAuthorizationDecision {
  const requested = facts.requestedScopes ?? [];
  const oidc = requested.filter(isOidcScope).filter((s) => s !== 'offline_access' || facts.client.mayRefresh);
  const resourceScopes = requested.filter((s) => !isOidcScope(s));

  let targets = facts.requestedResources;
  if (targets.length === 0 && resourceScopes.length > 0) {
    if (facts.client.allowedAudiences.length === 1) targets = [facts.client.allowedAudiences[0]!];
    else {
      const defining = [...facts.resources.values()].filter((r) => resourceScopes.every((s) => r.scopes.some((d) => d.name === s)));
      if (defining.length !== 1) return fail('invalid_target', 'resource is required: name the resource these scopes are for');
      targets = [defining[0]!.uri];
    }
  }
  for (const uri of targets) {
    if (!facts.resources.has(uri)) return fail('invalid_target', `resource ${uri} is not registered`);
    if (facts.client.allowedAudiences.length > 0 && !facts.client.allowedAudiences.includes(uri)) {
      return fail('invalid_target', `resource ${uri} is not allowed for this client`);
    }
    if (facts.actor && !facts.actor.allowedAudiences.includes(uri)) return fail('invalid_target', `resource ${uri} is not allowed for the requested agent`);
  }

  let scopes = resourceScopes;
  if (facts.requestedScopes === undefined && targets.length > 0) {
    // No scope parameter (OAuth 2.1 §3.2.2.1): everything the client (and agent) may hold that the targets define.
    scopes = facts.client.allowedScopes.filter((s) => !isOidcScope(s) && (!facts.actor || facts.actor.allowedScopes.includes(s)));
    scopes = scopes.filter((s) => targets.some((uri) => facts.resources.get(uri)!.scopes.some((d) => d.name === s)));
  }
  for (const scope of scopes) {
    if (!targets.some((uri) => facts.resources.get(uri)!.scopes.some((d) => d.name === scope))) {
      return fail('invalid_scope', `scope ${scope} is not defined by the requested resource`);
    }
    if (!facts.client.allowedScopes.includes(scope)) return fail('invalid_scope', `scope ${scope} is not allowed for this client`);
    if (facts.actor && !facts.actor.allowedScopes.includes(scope)) return fail('invalid_scope', `scope ${scope} is not allowed for the requested agent`);
  }
  if (!oidc.includes('openid') && scopes.length === 0) return fail('invalid_scope', 'request openid or at least one scope of a resource');
  return { ok: true, scopes: [...oidc, ...scopes], resources: targets };
}

import type { ResourceRecord } from '../store/store.ts';

/**
 * Decides the audience and scopes of a token from what a client asked for and what it is allowed (RFC 8707 §2,
 * RFC 6749 §3.3). Pure: it takes facts and returns a decision. Rules:
 * - every requested resource must be one the client may use and a registered resource (`invalid_target`);
 * - no resource requested: the client's only allowed audience, else `invalid_target` (ambiguous or none);
 * - every requested scope must be allowed to the client and defined by one of the audiences (`invalid_scope`);
 * - no scope requested: every allowed scope that the audiences define.
 */

export type ScopeDecision =
  | { ok: true; audience: string[]; scopes: string[] }
  | { ok: false; error: 'invalid_target' | 'invalid_scope'; description: string };

export interface ScopeFacts {
  /** Canonical resource URIs requested; empty when none were. */
  requestedResources: string[];
  /** Requested scopes, or undefined when the request had no `scope`. */
  requestedScopes: string[] | undefined;
  allowedScopes: readonly string[];
  allowedAudiences: readonly string[];
  /** The registered resources among the requested (or defaulted) audience, by URI. */
  resources: ReadonlyMap<string, ResourceRecord>;
}

/** Which audience a request names: the requested resources, or the client's single allowed audience. */
export function selectAudience(requestedResources: string[], allowedAudiences: readonly string[]): string[] | { error: string } {
  if (requestedResources.length > 0) return requestedResources;
  if (allowedAudiences.length === 1) return [allowedAudiences[0]!];
  return {
    error: allowedAudiences.length === 0 ? 'this client may not get tokens for any resource' : 'resource is required: this client may use several resources',
  };
}

export function decideAudienceAndScopes(facts: ScopeFacts): ScopeDecision {
  const audience = selectAudience(facts.requestedResources, facts.allowedAudiences);
  if (!Array.isArray(audience)) return { ok: false, error: 'invalid_target', description: audience.error };
  for (const uri of audience) {
    if (!facts.allowedAudiences.includes(uri)) return { ok: false, error: 'invalid_target', description: `resource ${uri} is not allowed for this client` };
    if (!facts.resources.has(uri)) return { ok: false, error: 'invalid_target', description: `resource ${uri} is not registered` };
  }

  const defined = new Set<string>();
  for (const uri of audience) for (const scope of facts.resources.get(uri)!.scopes) defined.add(scope.name);

  if (facts.requestedScopes === undefined) {
    return { ok: true, audience, scopes: facts.allowedScopes.filter((s) => defined.has(s)) };
  }
  for (const scope of facts.requestedScopes) {
    if (!facts.allowedScopes.includes(scope)) return { ok: false, error: 'invalid_scope', description: `scope ${scope} is not allowed for this client` };
    if (!defined.has(scope)) return { ok: false, error: 'invalid_scope', description: `scope ${scope} is not defined by the requested resource` };
  }
  return { ok: true, audience, scopes: facts.requestedScopes };
}

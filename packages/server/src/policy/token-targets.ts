import { isOidcScope } from './oidc-scopes.ts';
import { refuse, type TargetDecision, type TargetFacts, type TargetPolicy, type TargetRefusal } from './target-facts.ts';
import {
  actorHandOffScope,
  actorResourceScope,
  allowedDownstream,
  allowedScopeOfEveryParty,
  allowedToActorOrInSource,
  allowedToEveryParty,
  asksForSomething,
  carriesAScope,
  clientResourceRequired,
  definedByResources,
  definedByTarget,
  grantedBySource,
  grantedScope,
  isRegistered,
  listsResource,
  listsResourceOrIsOpenApp,
  noneForIdentityOnly,
  onlyListedResource,
  partyDefaultScopes,
  registeredSourceResources,
  resourceDefaultScopes,
  resourceDefiningEveryScope,
  resourceRequired,
  resourceRequiredNamingChoices,
  sourceResources,
  unique,
  withinSubjectScope,
  withinUserConsent,
} from './target-rules.ts';

/**
 * The one place that decides a token's targets: its resources (RFC 8707 `aud`) and its scopes (RFC 6749 §3.3), for
 * every grant and for the authorization request. Pure: the caller looks up the registered resources the policy
 * names (`lookUp`) once, then asks for a decision over those facts.
 *
 * A policy is data: which rules choose the resources when the request names none, which checks every resource and
 * every scope must pass, and what scopes a request without `scope` gets (the candidates that pass every scope
 * check). Changing what a grant allows means editing its row in `TARGET_POLICIES`, or adding a rule beside the
 * others (target-rules.ts); the engine (`decideTargets`) stays as it is. The facts and the shape of a policy are in
 * target-facts.ts; both are re-exported here, where every grant and flow imports them from.
 */

export type { AudienceRule, Party, ResourceCheck, ScopeCheck, TargetDecision, TargetFacts, TargetPolicy, TargetRefusal, TargetSource } from './target-facts.ts';
export { NO_RESOURCES } from './target-facts.ts';
export { listsResource, listsResourceOrIsOpenApp } from './target-rules.ts';

const isRefusal = (value: readonly string[] | TargetRefusal | null): value is TargetRefusal => value !== null && !Array.isArray(value);

// ── The policies ────────────────────────────────────────────────────────────────────────────────────────────────

/**
 * RFC 6749 §4.4 + RFC 8707: the client's listed resources only; scopes it may hold that those resources define
 * (what it asked for less the rest; without `scope`, its defaults, else the resource's). Every party must allow
 * each resource and scope.
 */
const CLIENT_OWN_RESOURCES = {
  identityScopes: 'like-any-scope',
  resourcesWhenOmitted: [onlyListedResource, clientResourceRequired],
  resourceChecks: [allowedToEveryParty(listsResource), isRegistered],
  requestWhenOmitted: partyDefaultScopes,
  scopesWhenOmitted: resourceDefaultScopes,
  scopeChecks: [allowedScopeOfEveryParty, definedByResources],
  unpermittedScopes: 'dropped',
  resultChecks: [],
  lookUp: (facts) => {
    const client = facts.parties[0]!;
    return (facts.requestedResources.length > 0 ? facts.requestedResources : client.allowedAudiences).filter((uri) => listsResource(client, uri));
  },
} satisfies TargetPolicy;

/** Each flow's rules, in the order they apply. */
export const TARGET_POLICIES = {
  client_credentials: CLIENT_OWN_RESOURCES,
  /**
   * RFC 7523 §2.1 (identity chaining, ID-JAG): the same rules, with the trusted issuer and the assertion as the
   * second and third parties, so every resource and scope is also within what the issuer may open and what the
   * assertion grants.
   */
  jwt_bearer: CLIENT_OWN_RESOURCES,
  /**
   * RFC 6749 §4.1.1 + RFC 8707 + draft-oauth-ai-agents-on-behalf-of-user-02: what a user may be asked to grant a
   * client and the agent it names. An agent never receives through a user more than it may hold at all. MCP
   * clients send what they have (often no `resource`, or no `scope`, or scopes from a challenge the client may not
   * all hold): the subset that may be granted is, and a request names its resource only when it is ambiguous.
   */
  authorization_request: {
    identityScopes: 'set-aside',
    resourcesWhenOmitted: [noneForIdentityOnly, onlyListedResource, resourceDefiningEveryScope, resourceRequiredNamingChoices],
    resourceChecks: [isRegistered, allowedToEveryParty(listsResourceOrIsOpenApp)],
    requestWhenOmitted: partyDefaultScopes,
    scopesWhenOmitted: (facts, resources) => resourceDefaultScopes(facts, resources).filter((s) => !isOidcScope(s)),
    scopeChecks: [definedByResources, allowedScopeOfEveryParty],
    unpermittedScopes: 'dropped',
    resultChecks: [asksForSomething],
    lookUp: () => 'every',
  },
  /**
   * RFC 6749 §4.1.3 and §6 + RFC 8707 §2.2: a user grant's tokens may narrow what the user granted, never widen it
   * (§6: a refresh asking for a scope not granted is refused, so the client learns it must ask the user).
   */
  user_grant: {
    identityScopes: 'like-any-scope',
    resourcesWhenOmitted: [sourceResources],
    resourceChecks: [grantedBySource],
    requestWhenOmitted: () => undefined,
    scopesWhenOmitted: (facts) => facts.source!.scopes,
    scopeChecks: [grantedScope],
    unpermittedScopes: 'refused',
    resultChecks: [],
    lookUp: () => [],
  },
  /**
   * RFC 8693 §2.1: the actor's own resources, or those the subject token already targets, and never beyond the
   * user's consent when a user grant is the root (SR-03); scopes only ever a subset of the subject token's and of
   * the actor's allowance (never widened when the subject has none), and at least one.
   */
  token_exchange: {
    identityScopes: 'like-any-scope',
    resourcesWhenOmitted: [onlyListedResource, registeredSourceResources, resourceRequired('resource or audience is required')],
    resourceChecks: [isRegistered, withinUserConsent, allowedToActorOrInSource],
    requestWhenOmitted: () => undefined,
    scopesWhenOmitted: (facts) => facts.source!.scopes,
    scopeChecks: [withinSubjectScope, actorResourceScope],
    unpermittedScopes: 'refused',
    resultChecks: [carriesAScope],
    lookUp: (facts) => unique([facts.requestedResources, facts.source!.resources, facts.parties[0]!.allowedAudiences.length === 1 ? facts.parties[0]!.allowedAudiences : []]),
  },
  /**
   * RFC 8693 by a resource server with its API key (a gateway calling on downstream): only resources it may call
   * on, within the user's consent; scopes the subject token holds and the downstream defines (by default all such).
   */
  downstream_exchange: {
    identityScopes: 'like-any-scope',
    resourcesWhenOmitted: [onlyListedResource, resourceRequired('resource or audience is required')],
    resourceChecks: [isRegistered, allowedDownstream, withinUserConsent],
    requestWhenOmitted: () => undefined,
    scopesWhenOmitted: (facts) => facts.source!.scopes,
    scopeChecks: [withinSubjectScope, definedByTarget],
    unpermittedScopes: 'refused',
    resultChecks: [carriesAScope],
    lookUp: (facts) => unique([facts.requestedResources, facts.parties[0]!.allowedAudiences]),
  },
  /** RFC 8693 with an agent as the `audience`: a hand-off token for that agent, no resource. */
  token_exchange_hand_off: {
    identityScopes: 'like-any-scope',
    resourcesWhenOmitted: [() => []],
    resourceChecks: [],
    requestWhenOmitted: () => undefined,
    scopesWhenOmitted: (facts) => facts.source!.scopes,
    scopeChecks: [withinSubjectScope, actorHandOffScope],
    unpermittedScopes: 'refused',
    resultChecks: [carriesAScope],
    lookUp: () => [],
  },
} satisfies Record<string, TargetPolicy>;

export type TargetPolicyName = keyof typeof TARGET_POLICIES;

/** Decides a token's resources and scopes by `policy` (one of `TARGET_POLICIES`) over facts looked up beforehand. */
export function decideTargets(policy: TargetPolicy, facts: TargetFacts): TargetDecision {
  const asked = facts.requestedScopes ?? policy.requestWhenOmitted(facts);
  // OIDC Core §11: offline_access is ignored for a client that cannot refresh.
  const identityKept = (s: string) => isOidcScope(s) && (s !== 'offline_access' || facts.mayRefresh === true);
  const setAside = policy.identityScopes === 'set-aside';
  const identity = setAside && asked ? asked.filter(identityKept) : [];
  const requestedScopes = setAside && asked ? asked.filter((s) => !isOidcScope(s)) : asked;

  let resources: readonly string[] = facts.requestedResources;
  if (resources.length === 0) {
    for (const rule of policy.resourcesWhenOmitted) {
      const chosen = rule(facts, requestedScopes);
      if (chosen === null) continue;
      if (isRefusal(chosen)) return chosen;
      resources = chosen;
      break;
    }
  }
  for (const uri of resources) {
    for (const check of policy.resourceChecks) {
      const failure = check(uri, facts);
      if (failure) return refuse('invalid_target', failure);
    }
  }

  const failureOf = (scope: string, within: readonly string[]) => {
    for (const check of policy.scopeChecks) {
      const failure = check(scope, facts, within);
      if (failure) return failure;
    }
    return null;
  };
  let scopes: string[];
  if (requestedScopes === undefined) {
    scopes = policy.scopesWhenOmitted(facts, resources).filter((scope) => failureOf(scope, resources) === null);
  } else {
    const failures = requestedScopes.map((scope) => failureOf(scope, resources));
    const firstFailure = failures.find((failure) => failure !== null);
    scopes = requestedScopes.filter((_, i) => failures[i] === null);
    // Refused: every failure; dropped: only when nothing that was asked for is left to grant.
    if (firstFailure && (policy.unpermittedScopes === 'refused' || (scopes.length === 0 && identity.length === 0))) return refuse('invalid_scope', firstFailure);
    // A resource chosen for scopes that were all left out is left out too: the token is for userinfo only.
    if (requestedScopes.length > 0 && scopes.length === 0 && facts.requestedResources.length === 0) resources = [];
  }
  scopes = [...identity, ...scopes];
  for (const check of policy.resultChecks) {
    const failure = check(scopes, resources);
    if (failure) return refuse('invalid_scope', failure);
  }
  // Incremental authorization: what the user granted before for these resources stays, while it still may. Not
  // offline_access: it asks for a refresh token with this authorization (OIDC Core §11), and is asked for each time.
  const kept = (facts.alreadyGranted ?? []).filter(
    (s) => !scopes.includes(s) && s !== 'offline_access' && ((isOidcScope(s) && setAside) || failureOf(s, resources) === null),
  );
  return { ok: true, resources: [...resources], scopes: unique([scopes, kept]) };
}

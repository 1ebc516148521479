import type { ClientKind, ResourceRecord } from '../store/store.ts';
import { isOidcScope } from './oidc-scopes.ts';

/**
 * The one place that decides a token's targets: its resources (RFC 8707 `aud`) and its scopes (RFC 6749 §3.3), for
 * every grant and for the authorization request. Pure: the caller looks up the registered resources the policy
 * names (`lookUp`) once, then asks for a decision over those facts.
 *
 * A policy is data: which rules choose the resources when the request names none, which checks every resource and
 * every scope must pass, and what scopes a request without `scope` gets (the candidates that pass every scope
 * check). Changing what a grant allows means editing its row in `TARGET_POLICIES`, or adding a rule beside the
 * others; the engine (`decideTargets`) stays as it is.
 */

/** A party whose allowance bounds the token: the client, the agent an authorization request names, or an exchange's actor. */
export interface Party {
  /** How refusals name it: `this client`, `the requested agent`, `this actor`. */
  label: string;
  kind: ClientKind;
  allowedScopes: readonly string[];
  allowedAudiences: readonly string[];
  /** What a request of this party without `scope` asks for (its registered default scopes); empty for none. */
  defaultScopes?: readonly string[];
}

/** What the token derives from: the user's grant (code, refresh) or the subject token of an exchange. */
export interface TargetSource {
  resources: readonly string[];
  scopes: readonly string[];
  /**
   * For a token exchange whose subject token derives from a user grant (`gid`): the resources that grant may still
   * give, i.e. what the user consented to (SR-03). Absent when no user stands at the root of the chain.
   */
  consented?: readonly string[];
}

export interface TargetFacts {
  /** Canonical `resource` URIs of the request (empty when none). */
  requestedResources: readonly string[];
  /** The request's scopes, or undefined when it sent no `scope`. */
  requestedScopes: readonly string[] | undefined;
  /** The first party is the one the token is issued to (the client, or an exchange's actor). */
  parties: readonly Party[];
  source?: TargetSource;
  /** May the client refresh (OIDC Core §11: `offline_access` only then). */
  mayRefresh?: boolean;
  /** The registered resources among those `lookUp` named, by URI. */
  registered: ReadonlyMap<string, ResourceRecord>;
  /**
   * Incremental authorization: the scopes the user already granted the same client (and agent) for the same
   * resources, kept beside the new ones (those that still pass every scope check).
   */
  alreadyGranted?: readonly string[];
}

/** The `registered` of facts not looked up yet. */
export const NO_RESOURCES: ReadonlyMap<string, ResourceRecord> = new Map();

export type TargetRefusal = { ok: false; error: 'invalid_target' | 'invalid_scope'; description: string };
export type TargetDecision = { ok: true; resources: string[]; scopes: string[] } | TargetRefusal;

/** Picks the resources of a request that names none: a list (possibly empty), null to let the next rule try, or a refusal. */
export type AudienceRule = (facts: TargetFacts, requestedResourceScopes: readonly string[] | undefined) => readonly string[] | null | TargetRefusal;
/** A check every chosen resource must pass: null, or why it fails (`invalid_target`). */
export type ResourceCheck = (uri: string, facts: TargetFacts) => string | null;
/** A check every scope must pass: null, or why it fails (`invalid_scope`, or the scope is left out: `unpermittedScopes`). */
export type ScopeCheck = (scope: string, facts: TargetFacts, resources: readonly string[]) => string | null;

export interface TargetPolicy {
  /**
   * `set-aside`: OpenID scopes (`openid profile email offline_access`) are the server's own: they skip the resource
   * rules and are kept (`offline_access` only for clients that may refresh). `like-any-scope`: no special case.
   */
  identityScopes: 'set-aside' | 'like-any-scope';
  /** Tried in order when the request names no resource; the first that does not pass (null) decides. */
  resourcesWhenOmitted: readonly AudienceRule[];
  resourceChecks: readonly ResourceCheck[];
  /** What a request without `scope` asks for, as if it had sent it (the client's default scopes); undefined: none. */
  requestWhenOmitted: (facts: TargetFacts) => readonly string[] | undefined;
  /** A request that still has no scope gets these candidates, less every one that fails a scope check. */
  scopesWhenOmitted: (facts: TargetFacts, resources: readonly string[]) => readonly string[];
  scopeChecks: readonly ScopeCheck[];
  /**
   * A requested scope that fails a check: `dropped` grants the rest (RFC 6749 §3.3: the AS may issue fewer scopes
   * and says so in the response's `scope`), refused only when nothing requested is left; `refused` refuses the request.
   */
  unpermittedScopes: 'dropped' | 'refused';
  /** Checks on the decided scopes as a whole: null, or why the request is refused (`invalid_scope`). */
  resultChecks: readonly ((scopes: readonly string[], resources: readonly string[]) => string | null)[];
  /** The registered resources the rules may read, for the caller to look up once; `every` when they read them all. */
  lookUp: (facts: Omit<TargetFacts, 'registered'>) => readonly string[] | 'every';
}

const unique = (lists: readonly (readonly string[])[]): string[] => [...new Set(lists.flat())];
const refuse = (error: TargetRefusal['error'], description: string): TargetRefusal => ({ ok: false, error, description });
const isRefusal = (value: readonly string[] | TargetRefusal | null): value is TargetRefusal => value !== null && !Array.isArray(value);

// ── Rules: who may use a resource ──────────────────────────────────────────────────────────────────────────────

/** Who may use a resource: what the two rules below read of a party (or of a client record, lifecycle/ asks them too). */
type AudienceHolder = Pick<Party, 'kind' | 'allowedAudiences'>;

/** The party lists the resource among its audiences. */
export const listsResource = (party: AudienceHolder, uri: string): boolean => party.allowedAudiences.includes(uri);

/**
 * The party lists the resource, or is an application registered without an audience list: such an application may
 * target any registered resource for a user (authorization request, token exchange). Agents always carry a list,
 * and `client_credentials` always needs one (an application acting for itself names its resources).
 */
export const listsResourceOrIsOpenApp = (party: AudienceHolder, uri: string): boolean =>
  listsResource(party, uri) || (party.kind === 'app' && party.allowedAudiences.length === 0);

// ── Rules: the resources of a request that names none ──────────────────────────────────────────────────────────

/** The first party's single listed resource. */
export const onlyListedResource: AudienceRule = (facts) => (facts.parties[0]!.allowedAudiences.length === 1 ? [facts.parties[0]!.allowedAudiences[0]!] : null);

/** No resource when the request asks only for identity (OpenID) scopes: the token is for userinfo. */
export const noneForIdentityOnly: AudienceRule = (_facts, resourceScopes) => (resourceScopes !== undefined && resourceScopes.length === 0 ? [] : null);

/** The registered resources every party may use (an application without a list: any). */
const usableResources = (facts: TargetFacts): ResourceRecord[] =>
  [...facts.registered.values()].filter((r) => facts.parties.every((party) => listsResourceOrIsOpenApp(party, r.uri)));

/** The one usable registered resource that defines every requested scope (with no scope: the only usable one). */
export const resourceDefiningEveryScope: AudienceRule = (facts, resourceScopes) => {
  const defining = usableResources(facts).filter((r) => (resourceScopes ?? []).every((s) => r.scopes.some((d) => d.name === s)));
  return defining.length === 1 ? [defining[0]!.uri] : null;
};

/** The last rule of an authorization request: refuse, naming the resources the client could have named. */
export const resourceRequiredNamingChoices: AudienceRule = (facts) => {
  const choices = usableResources(facts).map((r) => r.uri).sort();
  return refuse('invalid_target', choices.length === 0 ? 'this client may use no registered resource' : `resource is required: name one of ${choices.join(' ')}`);
};

/** Everything the source holds (a user grant's resources). */
export const sourceResources: AudienceRule = (facts) => facts.source!.resources;

/** The source's resources that are registered (a subject token's audience, less agents and userinfo). */
export const registeredSourceResources: AudienceRule = (facts) => {
  const registered = facts.source!.resources.filter((uri) => facts.registered.has(uri));
  return registered.length > 0 ? registered : null;
};

export const resourceRequired = (description: string): AudienceRule => () => refuse('invalid_target', description);

/** client_credentials: why a request without `resource` cannot be answered for this client. */
export const clientResourceRequired: AudienceRule = (facts) =>
  refuse(
    'invalid_target',
    facts.parties[0]!.allowedAudiences.length === 0 ? 'this client may not get tokens for any resource' : 'resource is required: this client may use several resources',
  );

// ── Checks on each resource ─────────────────────────────────────────────────────────────────────────────────────

export const isRegistered: ResourceCheck = (uri, facts) => (facts.registered.has(uri) ? null : `resource ${uri} is not registered`);

/** Every party must allow the resource, by `rule`. */
export const allowedToEveryParty =
  (rule: (party: Party, uri: string) => boolean): ResourceCheck =>
  (uri, facts) => {
    for (const party of facts.parties) if (!rule(party, uri)) return `resource ${uri} is not allowed for ${party.label}`;
    return null;
  };

/** Token exchange: the actor may use it, or the subject token already targets it (a narrower token for the same place). */
export const allowedToActorOrInSource: ResourceCheck = (uri, facts) =>
  listsResourceOrIsOpenApp(facts.parties[0]!, uri) || facts.source!.resources.includes(uri) ? null : `resource ${uri} is not allowed for ${facts.parties[0]!.label}`;

/**
 * SR-03: a token exchange from a user's token stays within what the user consented to, whichever agent asks and
 * whatever it may use itself: a hand-off to another agent does not carry the user's consent to that agent's resources.
 */
export const withinUserConsent: ResourceCheck = (uri, facts) => {
  const consented = facts.source!.consented;
  return consented === undefined || consented.includes(uri) ? null : `resource ${uri} is outside what the user consented to`;
};

/** Downstream exchange: the resource server (first party) lists the resource among those it may call on. */
export const allowedDownstream: ResourceCheck = (uri, facts) => (listsResource(facts.parties[0]!, uri) ? null : `resource ${uri} is not an allowed downstream of ${facts.parties[0]!.label}`);

export const grantedBySource: ResourceCheck = (uri, facts) => (facts.source!.resources.includes(uri) ? null : `resource ${uri} was not granted`);

// ── Checks on each scope ────────────────────────────────────────────────────────────────────────────────────────

const definedBy = (scope: string, resources: readonly string[], facts: TargetFacts): boolean =>
  resources.some((uri) => facts.registered.get(uri)?.scopes.some((d) => d.name === scope) ?? false);

export const definedByResources: ScopeCheck = (scope, facts, resources) =>
  definedBy(scope, resources, facts) ? null : `scope ${scope} is not defined by the requested resource`;

export const allowedScopeOfEveryParty: ScopeCheck = (scope, facts) => {
  for (const party of facts.parties) if (!party.allowedScopes.includes(scope)) return `scope ${scope} is not allowed for ${party.label}`;
  return null;
};

export const grantedScope: ScopeCheck = (scope, facts) => (facts.source!.scopes.includes(scope) ? null : `scope ${scope} was not granted`);

export const withinSubjectScope: ScopeCheck = (scope, facts) => (facts.source!.scopes.includes(scope) ? null : `scope ${scope} exceeds the subject token's scope`);

/** Token exchange: a resource scope (never an OpenID one) the actor may hold, defined by the token's resources. */
export const actorResourceScope: ScopeCheck = (scope, facts, resources) =>
  !isOidcScope(scope) && facts.parties[0]!.allowedScopes.includes(scope) && definedBy(scope, resources, facts)
    ? null
    : `scope ${scope} is not allowed for this actor or resource`;

/** Downstream exchange: a scope the token's resources define (the caller's own scopes stay behind). */
export const definedByTarget: ScopeCheck = (scope, facts, resources) => (definedBy(scope, resources, facts) ? null : `scope ${scope} is not defined by ${resources.join(' ')}`);

/** Token exchange to an agent (hand-off): the same, with no resource to define it. */
export const actorHandOffScope: ScopeCheck = (scope, facts) =>
  !isOidcScope(scope) && facts.parties[0]!.allowedScopes.includes(scope) ? null : `scope ${scope} is not allowed for this actor or resource`;

// ── Checks on the decision as a whole ────────────────────────────────────────────────────────────────────────

/** An authorization request must ask for something: `openid`, or at least one scope of a resource. */
export const asksForSomething = (scopes: readonly string[]): string | null =>
  scopes.includes('openid') || scopes.some((s) => !isOidcScope(s)) ? null : 'request openid or at least one scope of a resource';

/** Token exchange: a token must carry a scope; none shared by the subject token, the actor and the target → refused. */
export const carriesAScope = (scopes: readonly string[]): string | null =>
  scopes.length > 0 ? null : 'the subject token, this actor and the target share no scope: no token without a scope is issued';

// ── Scopes a request without `scope` gets ───────────────────────────────────────────────────────────────────

/** The first party's registered default scopes, as if it had requested them; undefined when it has none. */
export const partyDefaultScopes = (facts: TargetFacts): readonly string[] | undefined => {
  const defaults = facts.parties[0]!.defaultScopes ?? [];
  return defaults.length > 0 ? defaults : undefined;
};

/**
 * The default scopes the chosen resources define (`resource update --default-scope`); a resource that names none
 * offers every scope the party may hold there (the consent page shows them all).
 */
export const resourceDefaultScopes = (facts: TargetFacts, resources: readonly string[]): readonly string[] => {
  const defaults = resources.flatMap((uri) => facts.registered.get(uri)?.defaultScopes ?? []);
  return defaults.length > 0 ? unique([defaults]) : facts.parties[0]!.allowedScopes;
};

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

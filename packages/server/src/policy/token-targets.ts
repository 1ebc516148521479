import type { ClientKind, ClientRecord, ResourceRecord } from '../store/store.ts';
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
}

/** The `registered` of facts not looked up yet. */
export const NO_RESOURCES: ReadonlyMap<string, ResourceRecord> = new Map();

export type TargetRefusal = { ok: false; error: 'invalid_target' | 'invalid_scope'; description: string };
export type TargetDecision = { ok: true; resources: string[]; scopes: string[] } | TargetRefusal;

/** Picks the resources of a request that names none: a list (possibly empty), null to let the next rule try, or a refusal. */
export type AudienceRule = (facts: TargetFacts, requestedResourceScopes: readonly string[] | undefined) => readonly string[] | null | TargetRefusal;
/** A check every chosen resource must pass: null, or why it fails (`invalid_target`). */
export type ResourceCheck = (uri: string, facts: TargetFacts) => string | null;
/** A check every scope must pass: null, or why it fails (`invalid_scope`). */
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
  /** A request without `scope` gets these candidates, less every one that fails a scope check. */
  scopesWhenOmitted: (facts: TargetFacts) => readonly string[];
  scopeChecks: readonly ScopeCheck[];
  /** Checks on the decided scopes as a whole: null, or why the request is refused (`invalid_scope`). */
  resultChecks: readonly ((scopes: readonly string[], resources: readonly string[]) => string | null)[];
  /** The registered resources the rules may read, for the caller to look up once; `every` when they read them all. */
  lookUp: (facts: Omit<TargetFacts, 'registered'>) => readonly string[] | 'every';
}

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

/** No resource when the request asks only for identity (OpenID) scopes, or for no scope at all. */
export const noneForIdentityOnly: AudienceRule = (_facts, resourceScopes) => (!resourceScopes || resourceScopes.length === 0 ? [] : null);

/** The one registered resource that defines every requested scope. */
export const resourceDefiningEveryScope: AudienceRule = (facts, resourceScopes) => {
  const defining = [...facts.registered.values()].filter((r) => (resourceScopes ?? []).every((s) => r.scopes.some((d) => d.name === s)));
  return defining.length === 1 ? [defining[0]!.uri] : null;
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

// ── The policies ────────────────────────────────────────────────────────────────────────────────────────────────

const unique = (lists: readonly (readonly string[])[]): string[] => [...new Set(lists.flat())];

/** Each flow's rules, in the order they apply. */
export const TARGET_POLICIES = {
  /** RFC 6749 §4.4 + RFC 8707: the client's listed resources only; scopes it may hold that those resources define. */
  client_credentials: {
    identityScopes: 'like-any-scope',
    resourcesWhenOmitted: [onlyListedResource, clientResourceRequired],
    resourceChecks: [allowedToEveryParty(listsResource), isRegistered],
    scopesWhenOmitted: (facts) => facts.parties[0]!.allowedScopes,
    scopeChecks: [allowedScopeOfEveryParty, definedByResources],
    resultChecks: [],
    lookUp: (facts) => {
      const client = facts.parties[0]!;
      return (facts.requestedResources.length > 0 ? facts.requestedResources : client.allowedAudiences).filter((uri) => listsResource(client, uri));
    },
  },
  /**
   * RFC 6749 §4.1.1 + RFC 8707 + draft-oauth-ai-agents-on-behalf-of-user-02: what a user may be asked to grant a
   * client and the agent it names. An agent never receives through a user more than it may hold at all.
   */
  authorization_request: {
    identityScopes: 'set-aside',
    resourcesWhenOmitted: [noneForIdentityOnly, onlyListedResource, resourceDefiningEveryScope, resourceRequired('resource is required: name the resource these scopes are for')],
    resourceChecks: [isRegistered, allowedToEveryParty(listsResourceOrIsOpenApp)],
    scopesWhenOmitted: (facts) => facts.parties[0]!.allowedScopes.filter((s) => !isOidcScope(s)),
    scopeChecks: [definedByResources, allowedScopeOfEveryParty],
    resultChecks: [asksForSomething],
    lookUp: () => 'every',
  },
  /** RFC 6749 §4.1.3 and §6 + RFC 8707 §2.2: a user grant's tokens may narrow what the user granted, never widen it. */
  user_grant: {
    identityScopes: 'like-any-scope',
    resourcesWhenOmitted: [sourceResources],
    resourceChecks: [grantedBySource],
    scopesWhenOmitted: (facts) => facts.source!.scopes,
    scopeChecks: [grantedScope],
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
    scopesWhenOmitted: (facts) => facts.source!.scopes,
    scopeChecks: [withinSubjectScope, actorResourceScope],
    resultChecks: [carriesAScope],
    lookUp: (facts) => unique([facts.requestedResources, facts.source!.resources, facts.parties[0]!.allowedAudiences.length === 1 ? facts.parties[0]!.allowedAudiences : []]),
  },
  /** RFC 8693 with an agent as the `audience`: a hand-off token for that agent, no resource. */
  token_exchange_hand_off: {
    identityScopes: 'like-any-scope',
    resourcesWhenOmitted: [() => []],
    resourceChecks: [],
    scopesWhenOmitted: (facts) => facts.source!.scopes,
    scopeChecks: [withinSubjectScope, actorHandOffScope],
    resultChecks: [carriesAScope],
    lookUp: () => [],
  },
} satisfies Record<string, TargetPolicy>;

export type TargetPolicyName = keyof typeof TARGET_POLICIES;

/** Decides a token's resources and scopes by `policy` (one of `TARGET_POLICIES`) over facts looked up beforehand. */
export function decideTargets(policy: TargetPolicy, facts: TargetFacts): TargetDecision {
  let identity: string[] = [];
  let requestedScopes = facts.requestedScopes;
  if (policy.identityScopes === 'set-aside' && requestedScopes) {
    // OIDC Core §11: offline_access is ignored for a client that cannot refresh.
    identity = requestedScopes.filter((s) => isOidcScope(s) && (s !== 'offline_access' || facts.mayRefresh === true));
    requestedScopes = requestedScopes.filter((s) => !isOidcScope(s));
  }

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

  let scopes: string[];
  if (requestedScopes === undefined) {
    scopes = policy.scopesWhenOmitted(facts).filter((scope) => policy.scopeChecks.every((check) => check(scope, facts, resources) === null));
  } else {
    for (const scope of requestedScopes) {
      for (const check of policy.scopeChecks) {
        const failure = check(scope, facts, resources);
        if (failure) return refuse('invalid_scope', failure);
      }
    }
    scopes = [...requestedScopes];
  }
  if (identity.length > 0) scopes = [...identity, ...scopes];
  for (const check of policy.resultChecks) {
    const failure = check(scopes, resources);
    if (failure) return refuse('invalid_scope', failure);
  }
  return { ok: true, resources: [...resources], scopes };
}

/**
 * RFC 8693 §2.1 `audience` values of an exchange: each a registered resource (by its canonical URI) or the id of
 * one active agent, which makes the token a hand-off to that agent; an agent cannot be combined with resources.
 */
export function classifyExchangeAudiences(
  requestedResources: readonly string[],
  audiences: readonly { value: string; canonicalUri: string | null }[],
  facts: { registered: ReadonlyMap<string, ResourceRecord>; agents: ReadonlyMap<string, ClientRecord | null> },
): { ok: true; resources: string[]; handOff: ClientRecord | null } | TargetRefusal {
  const resources = [...requestedResources];
  let handOff: ClientRecord | null = null;
  for (const { value, canonicalUri } of audiences) {
    if (canonicalUri && facts.registered.has(canonicalUri)) {
      if (!resources.includes(canonicalUri)) resources.push(canonicalUri);
      continue;
    }
    const agent = facts.agents.get(value) ?? null;
    if (!agent || agent.kind !== 'agent' || agent.status !== 'active' || handOff) return refuse('invalid_target', `audience ${value} is not a registered resource or an active agent`);
    handOff = agent;
  }
  if (handOff && resources.length > 0) return refuse('invalid_target', 'an agent audience cannot be combined with resources');
  return { ok: true, resources: handOff ? [] : resources, handOff };
}

/** The `aud` of a token for a user: its resources, or the userinfo endpoint when it targets none (OIDC Core §5.3). */
export function userTokenAudience(resources: readonly string[], userinfoUrl: string): string[] {
  return resources.length > 0 ? [...resources] : [userinfoUrl];
}

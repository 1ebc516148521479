import { isOidcScope } from './oidc-scopes.ts';
import { type AudienceRule, type Party, refuse, type ResourceCheck, type ScopeCheck, type TargetFacts } from './target-facts.ts';
import type { ResourceRecord } from '../store/store.ts';

/**
 * The rules target policies are made of (`TARGET_POLICIES` in token-targets.ts): who may use a resource, how the
 * resources of a request that names none are chosen, the checks every resource, every scope and the decision as a
 * whole must pass, and the scopes a request without `scope` gets.
 */

export const unique = (lists: readonly (readonly string[])[]): string[] => [...new Set(lists.flat())];

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

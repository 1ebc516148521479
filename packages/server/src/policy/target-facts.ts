import type { ClientKind, ResourceRecord } from '../store/store.ts';

// The facts a target policy decides over, the shape of a policy and of its rules (policy/token-targets.ts).

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

export const refuse = (error: TargetRefusal['error'], description: string): TargetRefusal => ({ ok: false, error, description });

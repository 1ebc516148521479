import type { ResourceRecord, ResourceScope, ScopePolicyKind, ScopePolicySetting, ScopeRisk } from '../store/store.ts';
import { isOidcScope } from './oidc-scopes.ts';

/**
 * Scope policies (issue 12 item 1): what a grant of a resource server's scope needs. Every grant asks `decideScopes`
 * after `token-targets.ts` has decided its resources and scopes: the authorization request (which scopes still need
 * the user's consent), `client_credentials`, token exchange, code redemption and refresh. Pure: the caller passes
 * the registered resources it already looked up for the target decision, so a scope whose policy is the default
 * costs no store round trip.
 *
 * A policy is data on the scope (`ResourceScope.policy`, edited through the admin API and `mandate resource
 * policy`, versioned in `scope_policy_versions`); a scope without one follows `DEFAULT_POLICY_BY_RISK`.
 */

/** The policy of a scope that has none set (issue 12 item 1: low → consent, remembered; high → approval). */
export const DEFAULT_POLICY_BY_RISK: Readonly<Record<ScopeRisk, ScopePolicyKind>> = {
  low: 'user_consent',
  medium: 'user_consent',
  high: 'admin_approval',
  critical: 'admin_approval',
};

/** Who asks, as the policy sees it. */
export type PolicyFlow =
  /** A user is asked (the authorization request): `auto` skips the consent page, `user_consent` needs it. */
  | 'authorization_request'
  /** A client for itself (`client_credentials`, an exchange with no user at the root): no user can consent. */
  | 'client'
  /** Tokens derived from a user grant (code, refresh, exchange of a user's token): the grant was the consent. */
  | 'user_grant';

export interface ScopePolicyFacts {
  flow: PolicyFlow;
  /** The decided scopes and resources (`decideTargets`). */
  scopes: readonly string[];
  resources: readonly string[];
  registered: ReadonlyMap<string, ResourceRecord>;
  /** The client and every agent of the chain: a policy's `clients` condition is met when one of them is listed. */
  parties: readonly string[];
  /** The user's roles, or null when no user stands behind the grant. Only read for `role_required`. */
  userRoles: () => Promise<readonly string[] | null>;
  /** Actors in the `act` chain of the token to be issued (0: none). */
  chainDepth: number;
  /** Seconds since the epoch, from the injected clock. */
  now: number;
}

/** The policy that decided, named in refusals and audit rows. */
export interface PolicyRef {
  resource: string;
  scope: string;
  policy: ScopePolicyKind;
  version: number;
}

export type ScopeDecision =
  | {
      ok: true;
      /** Scopes the user must consent to (authorization request only; OpenID scopes always). */
      needConsent: string[];
      /** The shortest `max_token_lifetime_seconds` of the scopes' conditions, if any. */
      maxLifetimeSeconds: number | undefined;
    }
  | { ok: false; reason: 'denied'; description: string; policy: PolicyRef }
  /** `maxLifetimeSeconds`: what the scopes' conditions allow a token issued once approved. */
  | {
      ok: false;
      reason: 'needs_approval';
      description: string;
      policy: PolicyRef;
      maxLifetimeSeconds: number | undefined;
      /** As for `ok`: what the user consents to first (authorization request), before approvers decide. */
      needConsent: string[];
    };

/** A scope's effective policy: the one set on it, or its risk's default (version 0). */
export function effectivePolicy(scope: ResourceScope): ScopePolicySetting {
  return scope.policy ?? { kind: DEFAULT_POLICY_BY_RISK[scope.risk], version: 0 };
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes past midnight UTC of `HH:MM`, or null. */
export function minuteOfDay(value: string): number | null {
  const match = HHMM.exec(value);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

/** Within [from, to) UTC; a window whose end is before its start wraps past midnight. */
function withinWindow(window: { from: string; to: string }, now: number): boolean {
  const from = minuteOfDay(window.from)!;
  const to = minuteOfDay(window.to)!;
  const minute = Math.floor((((now % 86_400) + 86_400) % 86_400) / 60);
  return from <= to ? minute >= from && minute < to : minute >= from || minute < to;
}

const describe = (ref: PolicyRef) => `policy ${ref.policy} (v${ref.version}) of scope ${ref.scope} at ${ref.resource}`;

/** The conditions of a policy that are not met, as a refusal description, or null. */
function unmetCondition(setting: ScopePolicySetting, ref: PolicyRef, facts: ScopePolicyFacts): string | null {
  const conditions = setting.conditions;
  if (!conditions) return null;
  if (conditions.clients && !facts.parties.some((p) => conditions.clients!.includes(p))) return `scope ${ref.scope} is refused by ${describe(ref)}: not for this client or agent`;
  if (conditions.maxChainDepth !== undefined && facts.chainDepth > conditions.maxChainDepth) {
    return `scope ${ref.scope} is refused by ${describe(ref)}: delegation chain of ${facts.chainDepth} exceeds ${conditions.maxChainDepth}`;
  }
  if (conditions.timeWindow && !withinWindow(conditions.timeWindow, facts.now)) {
    return `scope ${ref.scope} is refused by ${describe(ref)}: only between ${conditions.timeWindow.from} and ${conditions.timeWindow.to} UTC`;
  }
  return null;
}

/**
 * Decides every resource scope of a grant by its policy. A refusal wins over a need for approval (no approval is
 * asked for a request that would be refused anyway); the first of each kind is reported.
 */
export async function decideScopes(facts: ScopePolicyFacts): Promise<ScopeDecision> {
  const needConsent: string[] = [];
  let maxLifetimeSeconds: number | undefined;
  let approval: { description: string; policy: PolicyRef } | null = null;
  for (const scope of facts.scopes) {
    if (isOidcScope(scope)) {
      needConsent.push(scope);
      continue;
    }
    for (const uri of facts.resources) {
      const defined = facts.registered.get(uri)?.scopes.find((s) => s.name === scope);
      if (!defined) continue;
      const setting = effectivePolicy(defined);
      const ref: PolicyRef = { resource: uri, scope, policy: setting.kind, version: setting.version };
      if (setting.kind === 'deny') return { ok: false, reason: 'denied', description: `scope ${scope} is refused by ${describe(ref)}`, policy: ref };
      const unmet = unmetCondition(setting, ref, facts);
      if (unmet) return { ok: false, reason: 'denied', description: unmet, policy: ref };
      if (setting.kind === 'role_required') {
        const roles = await facts.userRoles();
        if (roles === null) return { ok: false, reason: 'denied', description: `scope ${scope} is refused by ${describe(ref)}: it needs a user with role ${setting.role}`, policy: ref };
        if (!roles.includes(setting.role!)) return { ok: false, reason: 'denied', description: `scope ${scope} is refused by ${describe(ref)}: the user lacks role ${setting.role}`, policy: ref };
      }
      // A user grant already holds the decision taken when it was made; a client alone never needs a user.
      if (setting.kind === 'admin_approval' && facts.flow !== 'user_grant') {
        approval ??= { description: `scope ${scope} needs an approver's approval (${describe(ref)})`, policy: ref };
      }
      if (facts.flow === 'authorization_request' && setting.kind !== 'auto' && !needConsent.includes(scope)) needConsent.push(scope);
      const cap = setting.conditions?.maxTokenLifetimeSeconds;
      if (cap !== undefined) maxLifetimeSeconds = Math.min(maxLifetimeSeconds ?? Infinity, cap);
    }
  }
  if (approval) return { ok: false, reason: 'needs_approval', ...approval, maxLifetimeSeconds, needConsent: facts.flow === 'authorization_request' ? needConsent : [] };
  return { ok: true, needConsent: facts.flow === 'authorization_request' ? needConsent : [], maxLifetimeSeconds };
}

/**
 * `decideScopes` for a client acting for itself (`client_credentials`, `jwt-bearer`): the client is the only party,
 * no user stands behind the grant (a `role_required` scope is refused) and no actor is in a chain.
 */
export function decideClientScopes(
  clientId: string,
  targets: { scopes: readonly string[]; resources: readonly string[] },
  registered: ReadonlyMap<string, ResourceRecord>,
  now: number,
): Promise<ScopeDecision> {
  return decideScopes({ flow: 'client', scopes: targets.scopes, resources: targets.resources, registered, parties: [clientId], userRoles: async () => null, chainDepth: 0, now });
}

/** The scopes among `scopes` whose policy, at any of the resources defining them, asks an approver. */
export function scopesNeedingApproval(scopes: readonly string[], resources: readonly string[], registered: ReadonlyMap<string, ResourceRecord>): string[] {
  return scopes.filter((scope) =>
    resources.some((uri) => {
      const defined = registered.get(uri)?.scopes.find((s) => s.name === scope);
      return defined !== undefined && effectivePolicy(defined).kind === 'admin_approval';
    }),
  );
}

const RISK_ORDER: readonly ScopeRisk[] = ['low', 'medium', 'high', 'critical'];

/** The highest risk among the scopes the resources define (what an approval request shows its approvers). */
export function highestRisk(scopes: readonly string[], resources: readonly string[], registered: ReadonlyMap<string, ResourceRecord>): ScopeRisk {
  let highest = 0;
  for (const uri of resources) {
    for (const defined of registered.get(uri)?.scopes ?? []) {
      if (scopes.includes(defined.name)) highest = Math.max(highest, RISK_ORDER.indexOf(defined.risk));
    }
  }
  return RISK_ORDER[highest]!;
}

/** Actors in an `act` chain (RFC 8693 §4.1: each `act` may nest the one before it). */
export function chainDepth(act: { act?: unknown } | undefined): number {
  let depth = 0;
  for (let a: { act?: unknown } | undefined = act; a; a = a.act as { act?: unknown } | undefined) depth++;
  return depth;
}

import type { ActClaim } from './claims.ts';

/**
 * Delegation-chain policy (issue 11 item 1), decided the same way where Mandate mints a token and where a resource
 * verifies one (the SDK's `verifyDelegation`). A policy says what a token's `act` chain may look like; what holds
 * between a token and its parent (scopes and audiences only shrink, the lifetime never exceeds the parent's) is
 * enforced when the authorization server mints it, since a single token cannot show it.
 */
export interface DelegationPolicy {
  /** The most actors the `act` chain may hold (0: nobody may act for the subject). */
  maxDepth?: number;
  /** The subject must be a person: not an agent (`sub_profile` `ai_agent`) nor a client acting for itself (`sub` = `client_id`). */
  requireHumanRoot?: boolean;
  /** Every actor in the chain must be one of these (agent or client ids). */
  allowedActors?: readonly string[];
  /**
   * Who may pass the token on to whom: for an actor listed here, the only actors that may act after it (the next
   * outer `act`). An actor not listed may delegate to anyone the rest of the policy admits.
   */
  allowedDelegations?: Readonly<Record<string, readonly string[]>>;
}

/** What a policy checks of a token: its subject and its chain. */
export interface DelegatedToken {
  sub: string;
  sub_profile?: string;
  client_id: string;
  act?: ActClaim;
  /**
   * Whether a person is at the root, when the caller knows it (the authorization server: the token derives from a
   * user's grant). Otherwise judged from the claims: see `hasHumanRoot`.
   */
  person?: boolean;
}

export type DelegationViolation =
  | { code: 'too_deep'; message: string; depth: number; maxDepth: number }
  | { code: 'no_human_root'; message: string }
  | { code: 'actor_not_allowed'; message: string; actor: string }
  | { code: 'delegation_not_allowed'; message: string; from: string; to: string };

/** The actors of a chain, outermost (current) first. */
export function actorsOf(act: ActClaim | undefined): string[] {
  const actors: string[] = [];
  for (let node = act; node !== undefined; node = node.act) actors.push(node.sub);
  return actors;
}

/**
 * Is the token's subject a person rather than an agent or a client acting for itself? From the claims alone: not
 * `sub_profile` `ai_agent` and not `sub` = `client_id`. That cannot tell an application's own token that another
 * client exchanged from a user's; `person` (set by whoever knows) decides first.
 */
export function hasHumanRoot(token: DelegatedToken): boolean {
  return token.person ?? (token.sub_profile !== 'ai_agent' && token.sub !== token.client_id);
}

/** The first rule of `policy` the token breaks, or null. Pure. */
export function checkDelegationChain(token: DelegatedToken, policy: DelegationPolicy): DelegationViolation | null {
  const actors = actorsOf(token.act);
  if (policy.maxDepth !== undefined && actors.length > policy.maxDepth) {
    return { code: 'too_deep', message: `the delegation chain has ${actors.length} actors; at most ${policy.maxDepth} are allowed`, depth: actors.length, maxDepth: policy.maxDepth };
  }
  if (policy.requireHumanRoot && !hasHumanRoot(token)) return { code: 'no_human_root', message: `the chain's subject ${token.sub} is not a person` };
  if (policy.allowedActors !== undefined) {
    const stranger = actors.find((actor) => !policy.allowedActors!.includes(actor));
    if (stranger !== undefined) return { code: 'actor_not_allowed', message: `actor ${stranger} is not allowed`, actor: stranger };
  }
  if (policy.allowedDelegations !== undefined) {
    // actors[i] acts after actors[i + 1]: the inner one delegated to the outer one.
    for (let i = 0; i + 1 < actors.length; i++) {
      const [to, from] = [actors[i]!, actors[i + 1]!];
      const allowed = policy.allowedDelegations[from];
      if (allowed !== undefined && !allowed.includes(to)) return { code: 'delegation_not_allowed', message: `${from} may not delegate to ${to}`, from, to };
    }
  }
  return null;
}

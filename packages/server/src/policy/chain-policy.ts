import { type ActClaim, checkDelegationChain, type DelegatedToken, type DelegationPolicy } from '@mandate/protocol';
import type { DelegationPolicyDocument } from '../store/store.ts';

/**
 * The delegation-chain policies an exchange must satisfy (issue 11 item 1), pure: the policy of every resource the
 * new token targets (depth, a person at the root, allowed actors; `@mandate/protocol` decides, as the SDK's
 * `verifyDelegation` does at the resource), and the policy of the agent that passes the token on (`may_delegate_to`:
 * whether it may hand it to the next actor). What holds between a token and its parent (scopes and audiences only
 * shrink, the lifetime never exceeds the parent's) is the exchange's own rule for every token, policy or not.
 */

/** A resource's stored policy in the protocol's terms. */
export function resourceChainPolicy(doc: DelegationPolicyDocument): DelegationPolicy {
  return {
    ...(doc.max_depth !== undefined ? { maxDepth: doc.max_depth } : {}),
    ...(doc.require_human_root ? { requireHumanRoot: true } : {}),
    ...(doc.allowed_actors !== undefined ? { allowedActors: doc.allowed_actors } : {}),
  };
}

/** Who passes authority to whom in an exchange: the party acting so far (the subject's outermost actor, or an agent subject) and the next one. */
export interface Delegation {
  from: string;
  to: string;
}

/** The pair an exchange adds, or null when the chain does not change hands (an actor re-scoping its own token). */
export function delegationStep(subject: { sub: string; subProfile: string | undefined; act: ActClaim | undefined }, next: string | null): Delegation | null {
  const from = subject.act?.sub ?? (subject.subProfile === 'ai_agent' ? subject.sub : null);
  if (from === null || next === null || from === next) return null;
  return { from, to: next };
}

export interface ChainPolicyFacts {
  /** The new token's subject and chain. */
  token: DelegatedToken;
  /** Each target resource's policy (null: none). */
  resources: ReadonlyMap<string, DelegationPolicyDocument | null>;
  /** The hand-over this exchange makes, with the policy of the agent handing over (null: none). */
  step: (Delegation & { policy: DelegationPolicyDocument | null }) | null;
}

/** Null, or why the exchange is refused (for `invalid_request`, and the dry run). */
export function decideChainPolicies(facts: ChainPolicyFacts): string | null {
  for (const [uri, doc] of facts.resources) {
    if (!doc) continue;
    const violation = checkDelegationChain(facts.token, resourceChainPolicy(doc));
    if (violation) return `resource ${uri} refuses this delegation chain: ${violation.message}`;
  }
  const step = facts.step;
  if (step?.policy?.may_delegate_to !== undefined && !step.policy.may_delegate_to.includes(step.to)) {
    return `${step.from} may not delegate to ${step.to}`;
  }
  return null;
}

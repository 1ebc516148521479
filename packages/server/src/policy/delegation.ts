import type { ActClaim, MayActClaim } from '@mandate/protocol';

/**
 * Delegation-chain policy for RFC 8693 token exchange (pure). Given the subject token's facts, the actor (or none,
 * for impersonation) and the exchanging client, it decides the `act` of the new token or refuses:
 * - impersonation (no actor token) only when policy allows it (off by default), and then the chain is kept as is;
 * - `may_act` in the subject token must name the actor (RFC 8693 §4.4, TE-08);
 * - the subject token must be bound to whoever exchanges it (systems-review gap 3): issued to this client, or
 *   naming the actor in its `aud`, its current `act`, or its `may_act`. A token picked up elsewhere cannot be
 *   exchanged by a party it never named;
 * - the new actor goes outermost, the subject token's chain nested inside it (RFC 8693 §4.1, TE-06); an actor
 *   that is already the current actor (or the subject itself) re-scopes without growing the chain;
 * - the chain never grows deeper than `maxDepth`.
 */

export interface DelegationFacts {
  subject: { sub: string; clientId: string; aud: readonly string[]; act: ActClaim | undefined; mayAct: MayActClaim | undefined };
  /** The actor proven by `actor_token`, or null when none was sent. */
  actor: ActClaim | null;
  clientId: string;
  maxDepth: number;
  allowImpersonation: boolean;
}

export type DelegationDecision = { ok: true; act: ActClaim | undefined; impersonation: boolean } | { ok: false; description: string };

function chainDepth(act: ActClaim | undefined): number {
  let depth = 0;
  for (let a = act; a; a = a.act) depth++;
  return depth;
}

export function decideDelegation(facts: DelegationFacts): DelegationDecision {
  const { subject, actor } = facts;
  if (!actor && !facts.allowImpersonation) return { ok: false, description: 'actor_token is required: impersonation is not allowed' };
  const party = actor?.sub ?? facts.clientId;

  if (subject.mayAct && subject.mayAct.sub !== party) return { ok: false, description: 'the subject token does not allow this actor (may_act)' };

  const bound =
    subject.clientId === facts.clientId ||
    subject.aud.includes(party) ||
    subject.aud.includes(facts.clientId) ||
    subject.act?.sub === party ||
    subject.mayAct?.sub === party;
  if (!bound) return { ok: false, description: 'the subject token was not issued to or for this actor' };

  if (!actor) return { ok: true, act: subject.act, impersonation: true };
  if (subject.act?.sub === actor.sub || (!subject.act && subject.sub === actor.sub)) return { ok: true, act: subject.act, impersonation: false };
  const act: ActClaim = { ...actor, ...(subject.act ? { act: subject.act } : {}) };
  if (chainDepth(act) > facts.maxDepth) return { ok: false, description: `the delegation chain would exceed ${facts.maxDepth} actors` };
  return { ok: true, act, impersonation: false };
}

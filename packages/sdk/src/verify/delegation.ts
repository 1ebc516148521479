import { checkDelegationChain, type DelegationPolicy } from '@mandate/protocol';
import { ClaimInvalid, DelegationActorNotAllowed, DelegationNotAllowed, DelegationTooDeep, DelegationWithoutHumanRoot } from '../errors.ts';
import type { AuthInfo } from './auth-info.ts';
import { isActClaim } from './claims.ts';

export type { DelegationPolicy };

/**
 * Checks a verified token's delegation chain against this resource's policy (issue 11 item 1): at most `maxDepth`
 * actors, a person at the root (`requireHumanRoot`), only `allowedActors`, and only the hand-overs
 * `allowedDelegations` admits. The rules are `@mandate/protocol`'s, the same Mandate applies when it mints an
 * exchanged token; a resource applies them again to whatever token reaches it. Throws a typed error per rule:
 * {@link DelegationTooDeep}, {@link DelegationWithoutHumanRoot}, {@link DelegationActorNotAllowed},
 * {@link DelegationNotAllowed}; a chain that is not one (a node that is not an object, or lacks `sub` or `client_id`)
 * is {@link ClaimInvalid} (`act`), as `createVerifier` refuses it. What holds between a token and its parent (scopes and audiences only shrink, the
 * lifetime never exceeds the parent's) cannot be seen in one token: Mandate enforces it at every exchange.
 *
 * @example
 * const auth = await verifier.verify(token);
 * verifyDelegation(auth, { maxDepth: 2, requireHumanRoot: true, allowedActors: ['agt_planner', 'agt_researcher'] });
 */
export function verifyDelegation(auth: Pick<AuthInfo, 'claims'>, policy: DelegationPolicy): void {
  // Claims that did not come through createVerifier are checked here too: a policy is never applied to a forged chain.
  if (auth.claims.act !== undefined && !isActClaim(auth.claims.act)) throw new ClaimInvalid('act', 'invalid');
  // Mandate puts `gid` on every token that derives from a user's grant: a person is at its root.
  const violation = checkDelegationChain({ ...auth.claims, ...(auth.claims.gid !== undefined ? { person: true } : {}) }, policy);
  if (violation === null) return;
  switch (violation.code) {
    case 'too_deep':
      throw new DelegationTooDeep(violation.depth, violation.maxDepth);
    case 'no_human_root':
      throw new DelegationWithoutHumanRoot(auth.claims.sub);
    case 'actor_not_allowed':
      throw new DelegationActorNotAllowed(violation.actor);
    case 'delegation_not_allowed':
      throw new DelegationNotAllowed(violation.from, violation.to);
  }
}

const isIdList = (value: unknown): value is readonly string[] => Array.isArray(value) && value.every((id) => typeof id === 'string' && id !== '');

/** Misuse of a policy option is a TypeError at setup, never a refusal of the first token. */
export function checkDelegationPolicy(policy: unknown): DelegationPolicy {
  if (typeof policy !== 'object' || policy === null) throw new TypeError('delegation must be an object');
  const { maxDepth, requireHumanRoot, allowedActors, allowedDelegations, ...rest } = policy as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new TypeError(`delegation.${unknown} is not an option`);
  if (maxDepth !== undefined && !(Number.isInteger(maxDepth) && (maxDepth as number) >= 0)) throw new TypeError('delegation.maxDepth must be a whole number ≥ 0');
  if (requireHumanRoot !== undefined && typeof requireHumanRoot !== 'boolean') throw new TypeError('delegation.requireHumanRoot must be a boolean');
  if (allowedActors !== undefined && !isIdList(allowedActors)) throw new TypeError('delegation.allowedActors must be an array of ids');
  if (allowedDelegations !== undefined) {
    if (typeof allowedDelegations !== 'object' || allowedDelegations === null || !Object.values(allowedDelegations).every(isIdList)) {
      throw new TypeError('delegation.allowedDelegations must map ids to arrays of ids');
    }
  }
  return policy as DelegationPolicy;
}

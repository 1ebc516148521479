/** Errors of a resource's delegation-chain policy (`verifyDelegation`). */

import { MandateError } from './base.ts';

/** The token's `act` chain holds more actors than the resource's delegation policy allows (`maxDepth`). */
export class DelegationTooDeep extends MandateError {
  declare readonly code: 'ERR_DELEGATION_TOO_DEEP';
  readonly depth: number;
  readonly maxDepth: number;
  constructor(depth: number, maxDepth: number) {
    super('ERR_DELEGATION_TOO_DEEP', `the delegation chain has ${depth} actors; at most ${maxDepth} are allowed`);
    this.depth = depth;
    this.maxDepth = maxDepth;
  }
}

/** The policy requires a person at the root of the chain (`requireHumanRoot`) and the subject is an agent or a client. */
export class DelegationWithoutHumanRoot extends MandateError {
  declare readonly code: 'ERR_DELEGATION_NO_HUMAN_ROOT';
  readonly subject: string;
  constructor(subject: string) {
    super('ERR_DELEGATION_NO_HUMAN_ROOT', `the chain's subject ${subject} is not a person`);
    this.subject = subject;
  }
}

/** An actor of the chain is not among the policy's `allowedActors`. */
export class DelegationActorNotAllowed extends MandateError {
  declare readonly code: 'ERR_DELEGATION_ACTOR_NOT_ALLOWED';
  readonly actor: string;
  constructor(actor: string) {
    super('ERR_DELEGATION_ACTOR_NOT_ALLOWED', `actor ${actor} is not allowed`);
    this.actor = actor;
  }
}

/** One actor passed the token to another that the policy's `allowedDelegations` does not allow it. */
export class DelegationNotAllowed extends MandateError {
  declare readonly code: 'ERR_DELEGATION_NOT_ALLOWED';
  readonly from: string;
  readonly to: string;
  constructor(from: string, to: string) {
    super('ERR_DELEGATION_NOT_ALLOWED', `${from} may not delegate to ${to}`);
    this.from = from;
    this.to = to;
  }
}

/**
 * A delegation-chain policy as stored and shown (issue 11 item 1). A resource's: `max_depth`, `require_human_root`,
 * `allowed_actors`. An agent's: `may_delegate_to` (the actors it may pass a token on to).
 */
export interface DelegationPolicyDocument {
  max_depth?: number;
  require_human_root?: boolean;
  allowed_actors?: string[];
  may_delegate_to?: string[];
}

export type DelegationPolicyOwner = 'resource' | 'agent';

export interface DelegationPolicyRecords {
  /** The policy of a resource (by canonical URI) or an agent (by client id), or null when it has none. */
  getDelegationPolicy(ownerKind: DelegationPolicyOwner, ownerId: string): Promise<DelegationPolicyDocument | null>;
  /** Sets (replaces) or, with null, removes the policy. */
  setDelegationPolicy(ownerKind: DelegationPolicyOwner, ownerId: string, policy: DelegationPolicyDocument | null, now: number): Promise<void>;
}

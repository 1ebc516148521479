export type ScopeRisk = 'low' | 'medium' | 'high' | 'critical';
export type ScopePolicyKind = 'auto' | 'user_consent' | 'admin_approval' | 'role_required' | 'deny';

/** A scope's policy (policy/scope-policy.ts decides by it); `version` counts its edits, 0 for a risk's default. */
export interface ScopePolicySetting {
  kind: ScopePolicyKind;
  /** For `role_required`: the role the user must hold. */
  role?: string;
  /**
   * For `admin_approval`: who decides. `approvers` (the default): users with the approver role, never on their own
   * request; `user`: also the user on whose behalf the agent acts, on /account (issue 12 item 2).
   */
  approver?: 'approvers' | 'user';
  conditions?: {
    /** Only these clients or agents (one of the chain listed) may get the scope. */
    clients?: string[];
    /** Tokens carrying the scope live at most this long. */
    maxTokenLifetimeSeconds?: number;
    /** At most this many actors in the token's `act` chain. */
    maxChainDepth?: number;
    /** Only between these UTC times (`HH:MM`; `to` before `from` wraps past midnight). */
    timeWindow?: { from: string; to: string };
  };
  version: number;
}

export interface ResourceScope {
  name: string;
  description: string | null;
  risk: ScopeRisk;
  /** Absent: the default of its risk (policy/scope-policy.ts `DEFAULT_POLICY_BY_RISK`). */
  policy?: ScopePolicySetting;
}

/** One version of a scope's policy, kept for the record (every edit adds one). */
export interface ScopePolicyVersionRecord {
  resourceId: string;
  scope: string;
  version: number;
  risk: ScopeRisk;
  policy: ScopePolicySetting;
  changedBy: string;
  changedAt: number;
}

export interface ScopePolicyRecords {
  /**
   * Stores the resource's scopes (one of them with a new policy) and that policy's version, in one transaction;
   * StoreConflictError when that version exists (a concurrent edit won).
   */
  saveScopePolicy(resourceId: string, scopes: ResourceScope[], version: ScopePolicyVersionRecord): Promise<void>;
  listScopePolicyVersions(resourceId: string, scope: string): Promise<ScopePolicyVersionRecord[]>;
}

/** A protected resource (an API or MCP server) with its canonical URI and the scopes it understands. */
export interface ResourceRecord {
  id: string;
  uri: string;
  name: string;
  scopes: ResourceScope[];
  /** Names among `scopes` granted to a client that asks for no scope and has no defaults of its own. */
  defaultScopes: string[];
  /** The downstream resources this resource server may exchange a token for itself into (a gateway's allowance). */
  downstreamResources: string[];
  /** May request Transaction Tokens with its API key (a workload of the trust domain). False when absent. */
  txnTokensAllowed?: boolean;
  /** Id part of the resource's API key (`mrk_<id>.<secret>`), used to find the key without scanning. */
  apiKeyId: string;
  apiKeyHash: string;
  /** The key replaced by the last rotation, honoured until `previousApiKeyExpiresAt` (its grace period). */
  previousApiKeyId: string | null;
  previousApiKeyHash: string | null;
  previousApiKeyExpiresAt: number | null;
  /**
   * Since when the current key has been the one in use: a token the resource server obtained by downstream exchange
   * (its `act` names it) issued before this instant was obtained with a replaced key, and lives only while that
   * key's grace period lasts (issue 11: rotating a resource server's key ends what it obtained with the old one).
   */
  apiKeySince: number;
  /** Since when the previous key was the one in use: tokens older than this were obtained with a key no longer honoured. */
  previousApiKeySince: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface ResourceRecords {
  createResource(record: ResourceRecord): Promise<void>;
  getResourceByUri(uri: string): Promise<ResourceRecord | null>;
  /** The resource whose current or previous API key has this id. */
  getResourceByApiKeyId(apiKeyId: string): Promise<ResourceRecord | null>;
  /** Allows or denies a resource server's Txn-Token requests (`txnTokensAllowed`); false when there is no such resource. */
  setResourceTxnTokensAllowed(id: string, allowed: boolean, updatedAt: number): Promise<boolean>;
  listResources(): Promise<ResourceRecord[]>;
  /**
   * Updates the resource. A patch that moves `apiKeySince` (a key rotation) appends a revocation event cutting the
   * tokens the resource server obtained before the oldest key still honoured (`previousApiKeySince`, or
   * `apiKeySince` when no previous key is kept): `{ cutoff: [{ party: 'resource', id: uri, iat_before }] }`.
   */
  updateResource(
    id: string,
    patch: Partial<
      Pick<ResourceRecord, 'name' | 'scopes' | 'defaultScopes' | 'downstreamResources' | 'apiKeyId' | 'apiKeyHash' | 'previousApiKeyId' | 'previousApiKeyHash' | 'previousApiKeyExpiresAt' | 'apiKeySince' | 'previousApiKeySince' | 'updatedAt'>
    >,
  ): Promise<ResourceRecord | null>;
  /** Resources whose previous API key's grace period is over at `now` but is still recorded. */
  listEndedResourceKeyGraces(now: number): Promise<ResourceRecord[]>;
  /**
   * Forgets the resource's previous key once its grace period is over, and appends the revocation event that ends
   * what the resource server obtained with it (a cutoff at `apiKeySince`); false when another instance did it first.
   */
  endResourceKeyGrace(id: string, now: number): Promise<boolean>;
  /** Deletes the resource and appends a cutoff event for every chain that passed through it (issue 11 item 5). */
  deleteResource(id: string, now: number): Promise<boolean>;
}

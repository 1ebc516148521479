/**
 * One issued Transaction Token (issue 11 item 5): its id, its transaction, and the claims of the access token the
 * transaction started from (a JWT payload without signature: nothing secret), which the lifecycle re-checks at every
 * use, so the Txn-Token lives no longer than that token's chain. A replacement copies its original's root.
 */
export interface TransactionTokenRecord {
  jti: string;
  txn: string;
  rootClaims: Record<string, unknown>;
  /** The workloads that requested it: the original requester first, then each replacement's (the call chain). */
  workloads: TransactionTokenWorkload[];
  createdAt: number;
  expiresAt: number;
}

/** A workload of the trust domain: an agent (by client id) or a resource server (by its URI). */
export interface TransactionTokenWorkload {
  kind: 'agent' | 'resource';
  id: string;
}

export interface TransactionTokenRecords {
  recordTransactionToken(record: TransactionTokenRecord): Promise<void>;
  /** The record, or null when there is none (never issued here, or purged after its expiry). */
  getTransactionToken(jti: string): Promise<TransactionTokenRecord | null>;
}

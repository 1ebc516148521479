import type { RevocationEvent } from '@mandate/protocol';

export interface RevocationRecords {
  /**
   * Marks a token id revoked until it would have expired anyway, and every token derived from it (its descendants
   * in the lineage, however deep) until theirs; resolves to the number of descendants newly revoked. When that
   * changed anything, appends one revocation event naming the token and all its descendants, and their audiences
   * (`audiences`: the token's own `aud` values; the descendants' come from the lineage) when all of them are known.
   */
  revokeTokenId(jti: string, expiresAt: number, now: number, audiences?: readonly string[]): Promise<number>;
  isTokenIdRevoked(jti: string): Promise<boolean>;
  /**
   * Records that the token `childJti` (expiring at `expiresAt`, for `audiences`: its `aud` values) derives from
   * `parentJtis`. Resolves to false, and revokes the child, when a parent is revoked by then: a revocation racing
   * the derivation wins either way.
   */
  recordDerivation(childJti: string, parentJtis: readonly string[], expiresAt: number, audiences?: readonly string[]): Promise<boolean>;
}

/** One stored revocation event (issue 11 item 3): its id orders the log and is the SSE event id. */
export interface RevocationEventRecord {
  id: number;
  createdAt: number;
  event: RevocationEvent;
}

/**
 * The revocation event log. Every revoking write of this store appends an event after it (a token and its
 * descendants, a grant, grants of a party, a party's cutoff), so no revocation path can forget one.
 */
export interface RevocationEventRecords {
  /** Events after `afterId`, oldest first, at most `limit`. */
  listRevocationEvents(afterId: number, limit: number): Promise<RevocationEventRecord[]>;
  /** The newest event's id, 0 when there is none: where a new subscriber without Last-Event-ID starts. */
  lastRevocationEventId(): Promise<number>;
  /** Calls `listener` after this store (this process) appended an event; returns the unsubscribe function. */
  onRevocationEvent(listener: () => void): () => void;
}

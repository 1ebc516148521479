import type { RefreshTokenRecord } from './user-grants.ts';
import type { TransactionTokenRecord } from './transaction-tokens.ts';
/** One audit event as the audit log hands it to the store, hash already computed. */
export interface AuditRow {
  seq: number;
  tsMs: number;
  event: string;
  actor: string | null;
  subject: string | null;
  clientId: string | null;
  ip: string | null;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

/** The `prevHash` of the first audit row. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

export interface AuditHead {
  seq: number;
  hash: string;
}

/**
 * The chain head as the last append committed it, kept in its own table so that deleting rows from `audit_log`
 * does not move it. Its `mac` (made with the audit key, which never enters the database) stops anyone without the
 * key from setting it back; see audit/audit-chain.ts.
 */
export interface AuditAnchor {
  seq: number;
  hash: string;
  /** Rows before this seq were written before the audit key existed: chained with plain SHA-256, no MAC. */
  keyedFromSeq: number;
  /** Null only until the first keyed append adopts the rows written before migration 020. */
  mac: string | null;
}

/** Where audit retention cut the chain: rows up to `seq` are gone, `hash` was row `seq`'s link, `mac` vouches for both. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  mac: string;
}

/** What an append or a verification starts from: the anchor, and the last row actually in the table. */
export interface AuditChainState {
  anchor: AuditAnchor | null;
  lastRow: AuditHead;
}

export interface AuditFilter {
  event?: string;
  /** Matches actor, subject or client id. */
  principal?: string;
  clientId?: string;
  subject?: string;
  /** The `tool` of a tool-call row (`detail.tool`, issue 12 item 7). */
  tool?: string;
  sinceMs?: number;
  untilMs?: number;
  afterSeq?: number;
  limit?: number;
  /** Newest first when true. */
  descending?: boolean;
}

/**
 * Records of issued tokens that are written in the transaction of their `token.issued` audit rows, so that no token
 * exists without its row, whatever crash comes between (issue 14: fault injection). A refresh token whose grant is
 * gone by then is not written (the grant's deletion ended it).
 */
export interface IssuedTokenRecords {
  refreshTokens?: RefreshTokenRecord[];
  transactionTokens?: TransactionTokenRecord[];
}

export interface AuditRecords {
  /**
   * Appends rows at the end of the chain and replaces the anchor, in one transaction, with the `records` of the
   * tokens the rows record. `build` receives the chain state inside the transaction, so concurrent writers (other
   * processes, other instances) never fork the chain; an exception from `build` writes nothing.
   */
  appendAuditRows(build: (state: AuditChainState) => { rows: AuditRow[]; anchor: AuditAnchor }, records?: IssuedTokenRecords): Promise<void>;
  /**
   * The hot path's append, for batches without token records: `batch` continues `head`, an anchor the caller has verified (the one it committed last,
   * or one it read). It is written, and the anchor moved to `batch.anchor`, only if the anchor is still exactly
   * `head`, no row follows it and no `appendAuditRows` holds the append lock; otherwise nothing is written and the
   * chain's state as then seen comes back, for the caller to verify and build on again. One statement on PostgreSQL,
   * so no lock is held across round trips and instances do not queue behind one another's.
   */
  appendAuditRowsAfter(head: AuditAnchor, batch: { rows: AuditRow[]; anchor: AuditAnchor }): Promise<{ appended: true } | { appended: false; state: AuditChainState }>;
  listAuditRows(filter: AuditFilter): Promise<AuditRow[]>;
  /** The anchor and the last row, read together. */
  auditChainState(): Promise<AuditChainState>;
  /**
   * Retention: deletes the rows up to `throughSeq` and records the checkpoint `seal` makes of row `throughSeq`, in
   * one transaction under the append lock. Returns the rows deleted; 0, and nothing changed, when that row is gone
   * or the checkpoint is already past it.
   */
  pruneAuditRows(throughSeq: number, seal: (head: AuditHead) => AuditCheckpoint): Promise<number>;
  auditCheckpoint(): Promise<AuditCheckpoint | null>;
}

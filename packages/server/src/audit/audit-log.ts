import type { KeyObject } from 'node:crypto';
import { storableJson, storableText } from '../store/storable-text.ts';
import type { AuditAnchor, AuditChainState, AuditRecords, AuditRow, IssuedTokenRecords } from '../store/store.ts';
import { AuditAnchorError, anchorProblem, auditAnchorMac, auditCheckpointMac, auditRowMac } from './audit-chain.ts';
import { type AuditChainReport, type VerifyOptions, verifyAuditChain } from './verify-audit-chain.ts';

/** One event for the audit trail. Never put a secret in it: `detail` keys that look like one are redacted anyway. */
export interface AuditEvent {
  /** Dotted name: `token.issued`, `token.refused`, `token.revoked`, `agent.created`, `agent.disabled`, … */
  event: string;
  /** Who did it: a client id, `admin:<token id>`, `cli`. */
  actor?: string | null;
  /** Whom it concerns: a token subject, an agent id. */
  subject?: string | null;
  clientId?: string | null;
  ip?: string | null;
  detail?: Record<string, unknown>;
}

const SECRET_LIKE = /secret|password|assertion|verifier|api_key|^token$|access_token|refresh_token|^code$/i;

function redact(detail: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!detail) return {};
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(detail)) {
    if (value === undefined) continue;
    out[key] = SECRET_LIKE.test(key) ? '[redacted]' : value;
  }
  return out;
}

/** Unlocked appends tried per batch before it waits for the append lock (each failure: another writer's append). */
const OPTIMISTIC_ATTEMPTS = 12;

interface Pending {
  event: AuditEvent;
  tsMs: number;
}

/** The token records of a batch's events, together. */
function batchRecords(batch: readonly IssuedTokenRecords[]): IssuedTokenRecords | undefined {
  if (batch.length === 0) return undefined;
  if (batch.length === 1) return batch[0];
  return { refreshTokens: batch.flatMap((records) => records.refreshTokens ?? []), transactionTokens: batch.flatMap((records) => records.transactionTokens ?? []) };
}

/**
 * Appends events to the hash-chained audit trail with group commit: events recorded during one turn of the event
 * loop are written in one transaction, and each `record()` resolves only once its row is committed. A caller that
 * awaits `record()` before answering therefore never answers for an action whose audit row could be lost to a
 * crash, while the cost per row stays that of a batched insert. The records of the tokens an event reports issued
 * (`record(event, records)`: refresh tokens, Transaction Tokens) are written in the same transaction as its row, so
 * no crash can leave a token without its row; if the batch fails, neither is written.
 *
 * Each batch also moves the chain's anchor (audit-chain.ts). A batch is refused, and its callers' `record()`
 * rejects, when the anchor does not verify or rows were added after it: extending such a chain would re-anchor it
 * and hide the tampering. `reanchor()` is the operator's deliberate way out, and it leaves a row saying so.
 */
export class AuditLog {
  readonly #store: AuditRecords;
  readonly #key: KeyObject;
  readonly #nowMs: () => number;
  /** The anchor this log last committed (its MAC is known good), and the one of the batch being written. */
  #lastAnchor: AuditAnchor | null = null;
  #pendingAnchor: AuditAnchor | null = null;
  #pending: Pending[] = [];
  /** The token records of the pending events that carry some (most carry none). */
  #pendingRecords: IssuedTokenRecords[] = [];
  #waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  #scheduled = false;
  #draining = false;
  #writing = 0;

  /** `key` is the audit MAC key, `deriveAuditKey(kek)`. */
  constructor(store: AuditRecords, key: KeyObject, nowMs: () => number = Date.now) {
    this.#store = store;
    this.#key = key;
    this.#nowMs = nowMs;
  }

  record(event: AuditEvent, records?: IssuedTokenRecords): Promise<void> {
    this.#pending.push({ event, tsMs: this.#nowMs() });
    if (records) this.#pendingRecords.push(records);
    const committed = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#scheduled && !this.#draining) {
      this.#scheduled = true;
      setImmediate(() => void this.#drain());
    }
    return committed;
  }

  /** Events recorded and not yet committed: waiting for their batch, or in the batch being written (metrics). */
  get queueDepth(): number {
    return this.#pending.length + this.#writing;
  }

  /** Resolves when everything recorded so far is committed. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#draining) {
      if (this.#draining) await new Promise((resolve) => setImmediate(resolve));
      else await this.#drain();
    }
  }

  /** Walks the whole chain and checks it against the anchor (see verify-audit-chain.ts). */
  verify(options: VerifyOptions = {}): Promise<AuditChainReport> {
    return verifyAuditChain(this.#store, this.#key, options);
  }

  /**
   * Retention: deletes the rows recorded before `beforeMs`, except the anchored head, and leaves a checkpoint (the
   * last deleted row's link, under its own MAC) from which `verify()` resumes, so the chain stays verifiable. The rows
   * to delete are verified first: a broken segment is evidence, and is refused (AuditAnchorError) rather than pruned.
   * Records `audit.pruned`. Returns the rows deleted and the last deleted seq, or null when nothing was old enough.
   */
  async prune(beforeMs: number, actor = 'retention'): Promise<{ deleted: number; throughSeq: number } | null> {
    await this.flush();
    const { anchor } = await this.#store.auditChainState();
    const [newestOld] = await this.#store.listAuditRows({ untilMs: beforeMs, descending: true, limit: 1 });
    if (!anchor || !newestOld) return null;
    const throughSeq = Math.min(newestOld.seq, anchor.seq - 1);
    const checked = await verifyAuditChain(this.#store, this.#key, { throughSeq, allowUnkeyedThrough: throughSeq });
    if (!checked.ok) throw new AuditAnchorError(`not deleting audit rows up to ${throughSeq}: ${checked.problem!.message} (see mandate audit verify)`);
    if (throughSeq <= checked.prunedThrough) return null;
    const deleted = await this.#store.pruneAuditRows(throughSeq, (head) => ({ ...head, mac: auditCheckpointMac(this.#key, head) }));
    if (deleted === 0) return null;
    await this.record({ event: 'audit.pruned', actor, detail: { through_seq: throughSeq, before_ms: beforeMs, rows: deleted } });
    return { deleted, throughSeq };
  }

  /**
   * Continues the chain from the last row actually in the table and anchors it anew, whatever the old anchor says:
   * for an operator who has seen `audit verify` report a broken anchor and must get the server writing again. The
   * first new row, `audit.reanchored`, records the old anchor and the table's head; the damage before it stays
   * visible to `audit verify`, since rows are never rewritten.
   */
  async reanchor(actor: string): Promise<{ previous: AuditAnchor | null; problem: string | null; seq: number }> {
    await this.flush();
    let result: { previous: AuditAnchor | null; problem: string | null; seq: number } | undefined;
    await this.#store.appendAuditRows((state) => {
      const problem = anchorProblem(this.#key, state.anchor, state.lastRow) ?? (state.anchor && state.lastRow.seq > state.anchor.seq ? 'rows were added after the anchored head' : null);
      // A forged anchor's keyedFromSeq is not to be believed: every row is then expected to carry a MAC.
      const keyedFromSeq = problem === null && state.anchor ? state.anchor.keyedFromSeq : 1;
      const event: AuditEvent = {
        event: 'audit.reanchored',
        actor,
        detail: { previous_anchor: state.anchor && { seq: state.anchor.seq, hash: state.anchor.hash }, table_head: state.lastRow, problem },
      };
      const built = chainRows(this.#key, { ...state.lastRow, keyedFromSeq }, [{ event, tsMs: this.#nowMs() }]);
      result = { previous: state.anchor, problem, seq: built.anchor.seq };
      return built;
    });
    return result!;
  }

  /**
   * Commits one batch. First without a lock (appendAuditRowsAfter, one statement on PostgreSQL): on the anchor this
   * log committed last, which is still the head unless another process or instance wrote since; if one did, on the
   * head it was shown, verified as any other writer's (the rows are built again only when the head moved: a head
   * that did not means another writer's append was under way, and the same rows are sent again). Under the append
   * lock after OPTIMISTIC_ATTEMPTS conflicts, when there is no keyed head to start from (the first batch, rows
   * written before the audit key), or when the batch carries token records (written in the same transaction). Measured with three writers appending back to back on PostgreSQL
   * (audit-writers.test.ts, a loaded machine): ~3 statements per batch, against 6 for every batch under the lock.
   * Waiting for the lock sooner does worse: while one writer holds it, every other writer's attempt fails and queues
   * for it too (with the lock after 5 conflicts: ~7.5 statements per batch; at the first: nearly every batch locked).
   */
  async #append(batch: Pending[], records: IssuedTokenRecords | undefined): Promise<void> {
    // Token records go in the locked transaction with their rows (no token without its row).
    let head = records ? null : this.#lastAnchor;
    let built = head && chainRows(this.#key, head, batch);
    for (let attempt = 0; head !== null && head.mac !== null && attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      const result = await this.#store.appendAuditRowsAfter(head, built!);
      if (result.appended) {
        this.#lastAnchor = built!.anchor;
        return;
      }
      const seen = trustedHead(this.#key, result.state, this.#lastAnchor);
      if (sameHead(seen, head)) continue;
      head = seen;
      built = chainRows(this.#key, head, batch);
    }
    await this.#store.appendAuditRows((state) => {
      const built = chainRows(this.#key, trustedHead(this.#key, state, this.#lastAnchor), batch);
      this.#pendingAnchor = built.anchor;
      return built;
    }, records);
    // Committed: the next batch that finds this very anchor need not verify its MAC again.
    this.#lastAnchor = this.#pendingAnchor;
  }

  /** Writes batches until nothing is pending; one drain at a time keeps rows in recording order. */
  async #drain(): Promise<void> {
    this.#scheduled = false;
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        const records = batchRecords(this.#pendingRecords);
        const waiters = this.#waiters;
        this.#pending = [];
        this.#pendingRecords = [];
        this.#waiters = [];
        this.#writing = batch.length;
        try {
          await this.#append(batch, records);
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        } finally {
          this.#writing = 0;
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}

const sameHead = (a: AuditAnchor, b: AuditAnchor) => a.seq === b.seq && a.hash === b.hash && a.keyedFromSeq === b.keyedFromSeq && a.mac === b.mac;

/** Where a batch may continue: the verified anchor, which a deletion of tail rows does not move. */
function trustedHead(key: KeyObject, state: AuditChainState, lastCommitted: AuditAnchor | null): AuditAnchor {
  const found = state.anchor;
  // The anchor this log committed last, unchanged: its MAC was made here and needs no second check (one HMAC less
  // per batch on the token hot path). Anything else, another writer's anchor included, is verified.
  const same =
    found !== null && lastCommitted !== null && found.mac !== null && found.seq === lastCommitted.seq &&
    found.hash === lastCommitted.hash && found.keyedFromSeq === lastCommitted.keyedFromSeq && found.mac === lastCommitted.mac;
  const problem = same ? null : anchorProblem(key, state.anchor, state.lastRow);
  if (problem !== null) throw new AuditAnchorError(`${problem}; refusing to extend the audit chain (see mandate audit verify, mandate audit reanchor)`);
  const anchor = state.anchor!;
  if (state.lastRow.seq > anchor.seq) {
    throw new AuditAnchorError(`audit rows after the anchored head ${anchor.seq} were not written by Mandate; refusing to extend the audit chain (see mandate audit verify)`);
  }
  return anchor;
}

function chainRows(key: KeyObject, head: Omit<AuditAnchor, 'mac'>, batch: Pending[]): { rows: AuditRow[]; anchor: AuditAnchor } {
  const rows: AuditRow[] = [];
  let prevHash = head.hash;
  let seq = head.seq;
  for (const { event, tsMs } of batch) {
    seq += 1;
    // A row is written whatever it quotes: a NUL or a lone surrogate from the request it records is shown as ␀ or
    // U+FFFD (store/storable-text.ts) rather than failing the whole batch, which other requests share.
    const text = (value: string | null | undefined) => (value == null ? null : storableText(value));
    const row = {
      seq,
      tsMs,
      event: storableText(event.event),
      actor: text(event.actor),
      subject: text(event.subject),
      clientId: text(event.clientId),
      ip: text(event.ip),
      detail: storableJson(redact(event.detail)),
    };
    const hash = auditRowMac(key, prevHash, row);
    rows.push({ ...row, prevHash, hash });
    prevHash = hash;
  }
  const next = { seq, hash: prevHash, keyedFromSeq: head.keyedFromSeq };
  return { rows, anchor: { ...next, mac: auditAnchorMac(key, next) } };
}

import type { AuditHead, AuditRecords, AuditRow } from '../store/store.ts';
import { auditRowHash } from './audit-chain.ts';

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

interface Pending {
  event: AuditEvent;
  tsMs: number;
}

/**
 * Appends events to the hash-chained audit trail with group commit: events recorded during one turn of the event
 * loop are written in one transaction, and each `record()` resolves only once its row is committed. A caller that
 * awaits `record()` before answering therefore never answers for an action whose audit row could be lost to a
 * crash, while the cost per row stays that of a batched insert.
 */
export class AuditLog {
  readonly #store: Pick<AuditRecords, 'appendAuditRows'>;
  readonly #nowMs: () => number;
  #pending: Pending[] = [];
  #waiters: { resolve: () => void; reject: (err: unknown) => void }[] = [];
  #scheduled = false;
  #draining = false;

  constructor(store: Pick<AuditRecords, 'appendAuditRows'>, nowMs: () => number = Date.now) {
    this.#store = store;
    this.#nowMs = nowMs;
  }

  record(event: AuditEvent): Promise<void> {
    this.#pending.push({ event, tsMs: this.#nowMs() });
    const committed = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    if (!this.#scheduled && !this.#draining) {
      this.#scheduled = true;
      setImmediate(() => void this.#drain());
    }
    return committed;
  }

  /** Resolves when everything recorded so far is committed. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0 || this.#draining) {
      if (this.#draining) await new Promise((resolve) => setImmediate(resolve));
      else await this.#drain();
    }
  }

  /** Writes batches until nothing is pending; one drain at a time keeps rows in recording order. */
  async #drain(): Promise<void> {
    this.#scheduled = false;
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        const waiters = this.#waiters;
        this.#pending = [];
        this.#waiters = [];
        try {
          await this.#store.appendAuditRows((head) => buildRows(head, batch));
          for (const w of waiters) w.resolve();
        } catch (err) {
          for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}

function buildRows(head: AuditHead, batch: Pending[]): AuditRow[] {
  const rows: AuditRow[] = [];
  let prevHash = head.hash;
  let seq = head.seq;
  for (const { event, tsMs } of batch) {
    seq += 1;
    const row = {
      seq,
      tsMs,
      event: event.event,
      actor: event.actor ?? null,
      subject: event.subject ?? null,
      clientId: event.clientId ?? null,
      ip: event.ip ?? null,
      detail: redact(event.detail),
    };
    const hash = auditRowHash(prevHash, row);
    rows.push({ ...row, prevHash, hash });
    prevHash = hash;
  }
  return rows;
}

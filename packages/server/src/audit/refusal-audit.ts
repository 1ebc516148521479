import type { AuditEvent, AuditLog } from './audit-log.ts';

/**
 * Audit rows for refused requests, bounded (SR-20). Within one minute (of the injected clock), the first refusal of
 * a given (event, client, address) gets its own row, with its reason, committed before the answer as any row is;
 * the others are only counted, and when the minute is over one `<event>_count` row says how many there were and
 * with which errors. So refused traffic adds at most two rows per client, address and minute however fast it comes,
 * and at most `maxKeys` of those a minute: past that, refusals share one overflow key (client and address `*`).
 * Issued tokens never come here: each keeps its own row.
 *
 * Counts still open are written by `flush()` (a server calls it periodically and on close); a crash loses them,
 * never a first row.
 */
export class RefusalAudit {
  readonly #audit: Pick<AuditLog, 'record'>;
  readonly #now: () => number;
  readonly #maxKeys: number;
  #minute = -1;
  #windows = new Map<string, RefusalWindow>();

  /** `now` is epoch seconds (the server's injected clock). */
  constructor(audit: Pick<AuditLog, 'record'>, now: () => number, options: { maxKeys?: number } = {}) {
    this.#audit = audit;
    this.#now = now;
    this.#maxKeys = options.maxKeys ?? 10_000;
  }

  /** Records one refusal: resolves once its row is committed, or at once when it is only counted. */
  async record(event: AuditEvent): Promise<void> {
    const ended = this.#rollOver();
    let key = windowKey(event.event, event.clientId ?? null, event.ip ?? null);
    if (!this.#windows.has(key) && this.#windows.size >= this.#maxKeys) key = windowKey(event.event, '*', '*');
    const window = this.#windows.get(key);
    const error = typeof event.detail?.['error'] === 'string' ? event.detail['error'] : 'refused';
    if (window) {
      window.count += 1;
      window.errors[error] = (window.errors[error] ?? 0) + 1;
      await ended;
      return;
    }
    const overflow = key.endsWith('\u0000*\u0000*');
    this.#windows.set(key, {
      event: event.event,
      clientId: overflow ? '*' : (event.clientId ?? null),
      ip: overflow ? '*' : (event.ip ?? null),
      actor: overflow ? null : (event.actor ?? null),
      count: 0,
      errors: Object.create(null) as Record<string, number>,
    });
    await Promise.all([ended, this.#audit.record(event)]);
  }

  /** Writes the counts of every window, ended or not (on close), or only of ended minutes. */
  async flush(options: { all?: boolean } = {}): Promise<void> {
    const ended = this.#rollOver();
    if (options.all) {
      const open = this.#windows;
      this.#windows = new Map();
      await Promise.all([ended, this.#writeCounts(open, this.#minute)]);
      return;
    }
    await ended;
  }

  /** On the first call of a new minute, hands the last minute's counts to the audit log. */
  #rollOver(): Promise<void> {
    const minute = Math.floor(this.#now() / 60);
    if (minute === this.#minute) return Promise.resolve();
    const ended = this.#windows;
    const endedMinute = this.#minute;
    this.#windows = new Map();
    this.#minute = minute;
    return this.#writeCounts(ended, endedMinute);
  }

  async #writeCounts(windows: Map<string, RefusalWindow>, minute: number): Promise<void> {
    const rows: Promise<void>[] = [];
    for (const window of windows.values()) {
      if (window.count === 0) continue;
      rows.push(
        this.#audit.record({
          event: `${window.event}_count`,
          actor: window.actor,
          clientId: window.clientId,
          ip: window.ip,
          detail: { count: window.count, errors: window.errors, window_start: minute * 60, window_seconds: 60 },
        }),
      );
    }
    await Promise.all(rows);
  }
}

interface RefusalWindow {
  event: string;
  clientId: string | null;
  ip: string | null;
  actor: string | null;
  /** Refusals after the first, which had its own row. */
  count: number;
  errors: Record<string, number>;
}

const windowKey = (event: string, clientId: string | null, ip: string | null) => `${event}\u0000${clientId ?? ''}\u0000${ip ?? ''}`;

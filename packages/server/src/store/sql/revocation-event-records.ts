import type { RevocationCutoff, RevocationEvent } from '@mandate/protocol';
import type { RevocationEventRecord, RevocationEventRecords } from '../store.ts';
import type { SqlDriver } from './driver.ts';

/** Lock key that serialises appends on PostgreSQL, so ids commit in order and a reader never skips a late one. */
export const APPEND_LOCK = 0x6d6e_6b80;

/**
 * How long a party's cutoff event is kept: the ceiling on any access-token lifetime (`tokens.maxAccessTokenTtl`'s
 * default), after which no token it cut can still be alive.
 */
export const CUTOFF_EVENT_RETENTION_SECONDS = 86_400;

/** The log the revoking record families append to (after their own write has committed), and its readers. */
export interface RevocationEventLog extends RevocationEventRecords {
  append(event: RevocationEvent, now: number, expiresAt: number): Promise<void>;
  /**
   * A party's cutoff, when an update moved its `tokensValidAfter` (a disable, a password reset). `aud`: the
   * resources every token it cuts can be meant for, when the caller knows them (a user: the resources of their
   * grants); without it, every subscribed resource receives the event.
   */
  appendCutoff(party: RevocationCutoff['party'], id: string, patch: { tokensValidAfter?: number | undefined; updatedAt?: number | undefined }, aud?: string[]): Promise<void>;
}

/** Whether an update moves a party's cutoff (`tokensValidAfter` set past 0): then it appends a cutoff event. */
export const movesCutoff = <T extends { tokensValidAfter?: number | undefined }>(patch: T): patch is T & { tokensValidAfter: number } =>
  patch.tokensValidAfter !== undefined && patch.tokensValidAfter > 0;

export function revocationEventLog(db: SqlDriver): RevocationEventLog {
  const listeners = new Set<() => void>();
  const append: RevocationEventLog['append'] = async (event, now, expiresAt) => {
    // The event carries its expiry (`exp`), so that a subscriber can forget it when nothing it names can be alive.
    const payload = JSON.stringify({ ...event, exp: expiresAt });
    await db.transaction((tx) => tx.run('INSERT INTO revocation_events (created_at, expires_at, payload) VALUES (?, ?, ?)', [now, expiresAt, payload]), APPEND_LOCK);
    // The in-process wake-up: this instance's streams read at once; other instances find it when they poll.
    for (const listener of listeners) listener();
  };
  return {
    append,
    async appendCutoff(party, id, patch, aud) {
      if (!movesCutoff(patch)) return;
      const at = patch.updatedAt ?? patch.tokensValidAfter;
      await append({ cutoff: [{ party, id, iat_before: patch.tokensValidAfter }], ...(aud !== undefined ? { aud } : {}) }, at, patch.tokensValidAfter + CUTOFF_EVENT_RETENTION_SECONDS);
    },
    async listRevocationEvents(afterId, limit) {
      const rows = await db.all('SELECT id, created_at, payload FROM revocation_events WHERE id > ? ORDER BY id LIMIT ?', [afterId, limit]);
      return rows.map((row): RevocationEventRecord => ({ id: Number(row['id']), createdAt: Number(row['created_at']), event: JSON.parse(String(row['payload'])) as RevocationEvent }));
    },
    async lastRevocationEventId() {
      const row = await db.get('SELECT MAX(id) AS id FROM revocation_events');
      return row?.['id'] == null ? 0 : Number(row['id']);
    },
    onRevocationEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

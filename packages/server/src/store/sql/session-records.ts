import type {
  LoginThrottleRecord,
  LoginThrottleRecords,
  SessionRecord,
  SessionRecords,
  UpstreamLoginStateRecord,
  UpstreamLoginStateRecords,
} from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import type { SqlDriver } from './driver.ts';

const sessionColumns: ColumnMap<SessionRecord> = {
  idHash: { column: 'id_hash' },
  userId: { column: 'user_id' },
  authTime: { column: 'auth_time' },
  amr: { column: 'amr', json: true },
  challenge: { column: 'challenge' },
  challengeExpiresAt: { column: 'challenge_expires_at' },
  createdAt: { column: 'created_at' },
  expiresAt: { column: 'expires_at' },
  lastSeenAt: { column: 'last_seen_at' },
};

const stateColumns: ColumnMap<UpstreamLoginStateRecord> = {
  stateHash: { column: 'state_hash' },
  sessionHash: { column: 'session_hash' },
  providerId: { column: 'provider_id' },
  returnTo: { column: 'return_to' },
  expiresAt: { column: 'expires_at' },
};

const throttleColumns: ColumnMap<LoginThrottleRecord> = {
  key: { column: 'key' },
  failures: { column: 'failures' },
  lockedUntil: { column: 'locked_until' },
  updatedAt: { column: 'updated_at' },
};

export function sessionRecords(db: SqlDriver): SessionRecords & UpstreamLoginStateRecords & LoginThrottleRecords {
  return {
    async createSession(record) {
      await db.run(...insertStatement('sessions', sessionColumns, record));
    },
    async getSession(idHash, now) {
      const row = await db.get('SELECT * FROM sessions WHERE id_hash = ? AND expires_at > ?', [idHash, now]);
      return row ? decodeRow(sessionColumns, row) : null;
    },
    async setSessionChallenge(idHash, challenge, expiresAt) {
      await db.run('UPDATE sessions SET challenge = ?, challenge_expires_at = ? WHERE id_hash = ?', [challenge, expiresAt, idHash]);
    },
    async takeSessionChallenge(idHash, now) {
      return db.transaction(async (tx) => {
        const row = await tx.get('SELECT challenge, challenge_expires_at FROM sessions WHERE id_hash = ?', [idHash]);
        if (!row || row['challenge'] === null) return null;
        await tx.run('UPDATE sessions SET challenge = NULL, challenge_expires_at = NULL WHERE id_hash = ?', [idHash]);
        return Number(row['challenge_expires_at']) > now ? String(row['challenge']) : null;
      });
    },
    async touchSession(idHash, now) {
      await db.run('UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?', [now, idHash, now]);
    },
    async deleteSession(idHash) {
      await db.run('DELETE FROM sessions WHERE id_hash = ?', [idHash]);
    },
    async deleteUserSessions(userId) {
      return db.run('DELETE FROM sessions WHERE user_id = ?', [userId]);
    },
    async latestAuthTime(userId, now) {
      const row = await db.get('SELECT MAX(auth_time) AS auth_time FROM sessions WHERE user_id = ? AND expires_at > ?', [userId, now]);
      const value = row?.['auth_time'];
      return value === null || value === undefined ? null : Number(value);
    },

    async createUpstreamLoginState(record) {
      await db.run(...insertStatement('upstream_login_states', stateColumns, record));
    },
    async takeUpstreamLoginState(stateHash, sessionHash, now) {
      const row = await db.get('DELETE FROM upstream_login_states WHERE state_hash = ? AND session_hash = ? RETURNING *', [stateHash, sessionHash]);
      if (!row) return null;
      const record = decodeRow(stateColumns, row);
      return record.expiresAt > now ? record : null;
    },

    async getLoginThrottle(key) {
      const row = await db.get('SELECT * FROM login_throttle WHERE key = ?', [key]);
      return row ? decodeRow(throttleColumns, row) : null;
    },
    async updateLoginThrottles(keys, decide) {
      const sorted = [...new Set(keys)].sort();
      return db.transaction(async (tx) => {
        // PostgreSQL: insert the missing rows, then lock them all in one order (no deadlock between two attempts);
        // SQLite: the transaction holds the database's write lock already.
        for (const key of sorted) {
          await tx.run('INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES (?, 0, 0, 0) ON CONFLICT (key) DO NOTHING', [key]);
        }
        const lock = db.dialect === 'postgres' ? ' ORDER BY key FOR UPDATE' : '';
        const rows = await tx.all(`SELECT * FROM login_throttle WHERE key IN (${sorted.map(() => '?').join(', ')})${lock}`, sorted);
        const byKey = new Map(rows.map((row) => [String(row['key']), decodeRow(throttleColumns, row)]));
        const { write, result } = decide(keys.map((key) => byKey.get(key) ?? { key, failures: 0, lockedUntil: 0, updatedAt: 0 }));
        for (const record of write) {
          await tx.run('UPDATE login_throttle SET failures = ?, locked_until = ?, updated_at = ? WHERE key = ?', [record.failures, record.lockedUntil, record.updatedAt, record.key]);
        }
        return result;
      });
    },
    async clearLoginFailures(key) {
      await db.run('DELETE FROM login_throttle WHERE key = ?', [key]);
    },
  };
}

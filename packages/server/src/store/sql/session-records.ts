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

    async createUpstreamLoginState(record) {
      await db.run(...insertStatement('upstream_login_states', stateColumns, record));
    },
    async takeUpstreamLoginState(stateHash, now) {
      const row = await db.get('DELETE FROM upstream_login_states WHERE state_hash = ? RETURNING *', [stateHash]);
      if (!row) return null;
      const record = decodeRow(stateColumns, row);
      return record.expiresAt > now ? record : null;
    },

    async getLoginThrottle(key) {
      const row = await db.get('SELECT * FROM login_throttle WHERE key = ?', [key]);
      return row ? decodeRow(throttleColumns, row) : null;
    },
    async recordLoginFailure(key, now, resetAfterSeconds) {
      const row = await db.get(
        `INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES (?, 1, 0, ?)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN login_throttle.updated_at < ? THEN 1 ELSE login_throttle.failures + 1 END,
           updated_at = excluded.updated_at
         RETURNING failures`,
        [key, now, now - resetAfterSeconds],
      );
      return Number(row?.['failures'] ?? 1);
    },
    async lockLogin(key, lockedUntil) {
      await db.run('UPDATE login_throttle SET locked_until = ? WHERE key = ?', [lockedUntil, key]);
    },
    async clearLoginFailures(key) {
      await db.run('DELETE FROM login_throttle WHERE key = ?', [key]);
    },
  };
}

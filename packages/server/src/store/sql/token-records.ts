import type { ReplayRecords, RevocationRecords } from '../store.ts';
import type { SqlExecutor } from './driver.ts';

export function revocationRecords(db: SqlExecutor): RevocationRecords {
  return {
    async revokeTokenId(jti, expiresAt) {
      await db.run('INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING', [jti, expiresAt]);
    },
    async isTokenIdRevoked(jti) {
      return (await db.get('SELECT 1 AS revoked FROM revoked_tokens WHERE jti = ?', [jti])) !== undefined;
    },
  };
}

export function replayRecords(db: SqlExecutor): ReplayRecords {
  return {
    async consumeOnce(key, expiresAt, now) {
      // An expired marker may still be there before the purge runs: take it over rather than call it a replay.
      const changed = await db.run(
        `INSERT INTO replay_markers (key, expires_at) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE replay_markers.expires_at < ?`,
        [key, expiresAt, now],
      );
      return changed > 0;
    },
  };
}

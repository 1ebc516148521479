import type { Store } from '../store.ts';
import { adminTokenRecords } from './admin-token-records.ts';
import { auditRecords } from './audit-records.ts';
import { clientRecords } from './client-records.ts';
import type { SqlDriver } from './driver.ts';
import { applyMigrations } from './migrations.ts';
import { resourceRecords } from './resource-records.ts';
import { signingKeyRecords } from './signing-key-records.ts';
import { replayRecords, revocationRecords } from './token-records.ts';

/** Assembles the record families over one driver. The dialects differ only in their driver and migrations. */
export function createSqlStore(db: SqlDriver, migrationsDirectory: string): Store {
  return {
    dialect: db.dialect,
    ...clientRecords(db),
    ...resourceRecords(db),
    ...adminTokenRecords(db),
    ...signingKeyRecords(db),
    ...revocationRecords(db),
    ...replayRecords(db),
    ...auditRecords(db),
    migrate: () => applyMigrations(db, migrationsDirectory),
    async purgeExpired(now) {
      let purged = 0;
      purged += await db.run('DELETE FROM revoked_tokens WHERE expires_at < ?', [now]);
      purged += await db.run('DELETE FROM replay_markers WHERE expires_at < ?', [now]);
      return purged;
    },
    close: () => db.close(),
  };
}

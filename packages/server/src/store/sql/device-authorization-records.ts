import type { DeviceAuthorizationRecord, DeviceAuthorizationRecords } from '../device-authorization.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import type { SqlDriver } from './driver.ts';

const columns: ColumnMap<DeviceAuthorizationRecord> = {
  id: { column: 'id' },
  deviceCodeHash: { column: 'device_code_hash' },
  userCodeHash: { column: 'user_code_hash' },
  clientId: { column: 'client_id' },
  scopes: { column: 'scopes', json: true },
  resources: { column: 'resources', json: true },
  status: { column: 'status' },
  userId: { column: 'user_id' },
  authTime: { column: 'auth_time' },
  amr: { column: 'amr', json: true },
  reason: { column: 'reason' },
  pollInterval: { column: 'poll_interval' },
  lastPolledAt: { column: 'last_polled_at' },
  createdAt: { column: 'created_at' },
  expiresAt: { column: 'expires_at' },
  decidedAt: { column: 'decided_at' },
  usedAt: { column: 'used_at' },
};

export function deviceAuthorizationRecords(db: SqlDriver): DeviceAuthorizationRecords {
  return {
    async createDeviceAuthorization(record) {
      await db.run(...insertStatement('device_authorizations', columns, record));
    },
    async getDeviceAuthorizationByUserCode(userCodeHash) {
      const row = await db.get('SELECT * FROM device_authorizations WHERE user_code_hash = ?', [userCodeHash]);
      return row ? decodeRow(columns, row) : null;
    },
    async pollDeviceAuthorization(deviceCodeHash, clientId, now, slowDownSeconds) {
      // Read and update under a lock (SQLite's write lock, PostgreSQL's row lock): of two polls at once, the second
      // sees the first's time.
      const lockRow = db.dialect === 'postgres' ? ' FOR UPDATE' : '';
      return db.transaction(async (tx) => {
        const row = await tx.get(`SELECT * FROM device_authorizations WHERE device_code_hash = ?${lockRow}`, [deviceCodeHash]);
        if (!row) return null;
        const record = decodeRow(columns, row);
        if (record.status !== 'pending' || record.clientId !== clientId) return { record, tooSoon: false };
        const tooSoon = record.lastPolledAt !== null && now - record.lastPolledAt < record.pollInterval;
        await tx.run('UPDATE device_authorizations SET last_polled_at = ?, poll_interval = ? WHERE id = ?', [now, record.pollInterval + (tooSoon ? slowDownSeconds : 0), record.id]);
        return { record, tooSoon };
      });
    },
    async decideDeviceAuthorization(id, decision, now) {
      const changed = await db.run(
        "UPDATE device_authorizations SET status = ?, user_id = ?, auth_time = ?, amr = ?, reason = ?, scopes = ?, resources = ?, decided_at = ? WHERE id = ? AND status = 'pending' AND expires_at > ?",
        [decision.status, decision.userId, decision.authTime, JSON.stringify(decision.amr), decision.reason, JSON.stringify(decision.scopes), JSON.stringify(decision.resources), now, id, now],
      );
      return changed === 1;
    },
    async useDeviceAuthorization(id, now) {
      return (await db.run("UPDATE device_authorizations SET used_at = ? WHERE id = ? AND status = 'approved' AND used_at IS NULL", [now, id])) === 1;
    },
  };
}

import type { AdminTokenRecord, AdminTokenRecords } from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import type { SqlExecutor } from './driver.ts';

const adminTokenColumns: ColumnMap<AdminTokenRecord> = {
  id: { column: 'id' },
  name: { column: 'name' },
  role: { column: 'role' },
  userId: { column: 'user_id' },
  secretHash: { column: 'secret_hash' },
  createdAt: { column: 'created_at' },
  revokedAt: { column: 'revoked_at' },
};

export function adminTokenRecords(db: SqlExecutor): AdminTokenRecords {
  return {
    async createAdminToken(record) {
      await db.run(...insertStatement('admin_tokens', adminTokenColumns, record));
    },
    async getAdminToken(id) {
      const row = await db.get('SELECT * FROM admin_tokens WHERE id = ?', [id]);
      return row ? decodeRow(adminTokenColumns, row) : null;
    },
    async listAdminTokens() {
      return (await db.all('SELECT * FROM admin_tokens ORDER BY created_at, id')).map((r) => decodeRow(adminTokenColumns, r));
    },
    async revokeAdminToken(id, revokedAt) {
      return (await db.run('UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [revokedAt, id])) > 0;
    },
  };
}

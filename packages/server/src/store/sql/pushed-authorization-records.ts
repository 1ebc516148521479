import type { PushedAuthorizationRecord, PushedAuthorizationRecords } from '../pushed-authorization.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import type { SqlDriver } from './driver.ts';

const columns: ColumnMap<PushedAuthorizationRecord> = {
  uriHash: { column: 'uri_hash' },
  clientId: { column: 'client_id' },
  params: { column: 'params' },
  createdAt: { column: 'created_at' },
  expiresAt: { column: 'expires_at' },
};

export function pushedAuthorizationRecords(db: SqlDriver): PushedAuthorizationRecords {
  return {
    async createPushedAuthorization(record) {
      await db.run(...insertStatement('pushed_authorizations', columns, record));
    },
    async takePushedAuthorization(uriHash, clientId, now) {
      // One statement: of two concurrent uses of one request_uri, exactly one gets the row.
      const row = await db.get('DELETE FROM pushed_authorizations WHERE uri_hash = ? AND client_id = ? RETURNING *', [uriHash, clientId]);
      if (!row) return null;
      const record = decodeRow(columns, row);
      return record.expiresAt > now ? record : null;
    },
  };
}

import type { PendingAuthorizationRecord, PendingAuthorizationRecords } from '../pending-authorization.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import type { SqlDriver } from './driver.ts';

const columns: ColumnMap<PendingAuthorizationRecord> = {
  idHash: { column: 'id_hash' },
  sessionHash: { column: 'session_hash' },
  clientId: { column: 'client_id' },
  actorId: { column: 'actor_id' },
  redirectUri: { column: 'redirect_uri' },
  state: { column: 'state' },
  codeChallenge: { column: 'code_challenge' },
  nonce: { column: 'nonce' },
  scopes: { column: 'scopes', json: true },
  resources: { column: 'resources', json: true },
  dpopJkt: { column: 'dpop_jkt' },
  authorizationDetails: { column: 'authorization_details', json: true },
  createdAt: { column: 'created_at' },
  expiresAt: { column: 'expires_at' },
};

export function pendingAuthorizationRecords(db: SqlDriver): PendingAuthorizationRecords {
  return {
    async createPendingAuthorization(record) {
      await db.run(...insertStatement('pending_authorizations', columns, record));
    },
    async takePendingAuthorization(idHash, sessionHash, now) {
      // One statement: of two concurrent takes, exactly one gets the row.
      const row = await db.get('DELETE FROM pending_authorizations WHERE id_hash = ? AND session_hash = ? RETURNING *', [idHash, sessionHash]);
      if (!row) return null;
      const record = decodeRow(columns, row);
      return record.expiresAt > now ? record : null;
    },
  };
}

import type { ClientRecord, ClientRecords } from '../store.ts';
import { StoreConflictError } from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement, updateStatement } from './columns.ts';
import { isUniqueViolation, type SqlExecutor } from './driver.ts';
import type { RevocationEventLog } from './revocation-event-records.ts';

export const clientColumns: ColumnMap<ClientRecord> = {
  clientId: { column: 'client_id' },
  kind: { column: 'kind' },
  name: { column: 'name' },
  description: { column: 'description' },
  owner: { column: 'owner' },
  status: { column: 'status' },
  allowedScopes: { column: 'allowed_scopes', json: true },
  defaultScopes: { column: 'default_scopes', json: true },
  allowedAudiences: { column: 'allowed_audiences', json: true },
  txnTokensAllowed: { column: 'txn_tokens_allowed', bool: true },
  accessTokenTtlSeconds: { column: 'access_token_ttl_seconds' },
  tokenEndpointAuthMethod: { column: 'token_endpoint_auth_method' },
  secretHash: { column: 'secret_hash' },
  previousSecretHash: { column: 'previous_secret_hash' },
  previousSecretExpiresAt: { column: 'previous_secret_expires_at' },
  jwks: { column: 'jwks', json: true },
  redirectUris: { column: 'redirect_uris', json: true },
  grantTypes: { column: 'grant_types', json: true },
  tokensValidAfter: { column: 'tokens_valid_after' },
  dpopBoundAccessTokens: { column: 'dpop_bound_access_tokens', bool: true },
  requirePushedAuthorizationRequests: { column: 'require_pushed_authorization_requests', bool: true },
  backchannelTokenDeliveryMode: { column: 'backchannel_token_delivery_mode' },
  backchannelClientNotificationEndpoint: { column: 'backchannel_client_notification_endpoint' },
  createdAt: { column: 'created_at' },
  updatedAt: { column: 'updated_at' },
};

export function clientRecords(db: SqlExecutor, events: Pick<RevocationEventLog, 'appendCutoff'>): ClientRecords {
  const records: ClientRecords = {
    async createClient(record) {
      const [sql, values] = insertStatement('clients', clientColumns, record);
      try {
        await db.run(sql, values);
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`client ${record.clientId} exists`);
        throw err;
      }
    },

    async getClient(clientId) {
      const row = await db.get('SELECT * FROM clients WHERE client_id = ?', [clientId]);
      return row ? decodeRow(clientColumns, row) : null;
    },

    async listClients(filter = {}) {
      const rows = filter.kind
        ? await db.all('SELECT * FROM clients WHERE kind = ? ORDER BY created_at, client_id', [filter.kind])
        : await db.all('SELECT * FROM clients ORDER BY created_at, client_id');
      return rows.map((row) => decodeRow(clientColumns, row));
    },

    async updateClient(clientId, patch) {
      const statement = updateStatement('clients', clientColumns, patch, 'client_id', clientId);
      if (!statement) return records.getClient(clientId);
      const row = await db.get(...statement);
      if (!row) return null;
      await events.appendCutoff('client', clientId, patch);
      return decodeRow(clientColumns, row);
    },

    async deleteClient(clientId, now) {
      await db.run("DELETE FROM delegation_policies WHERE owner_kind = 'agent' AND owner_id = ?", [clientId]);
      const deleted = (await db.run('DELETE FROM clients WHERE client_id = ?', [clientId])) > 0;
      // Its tokens are dead (the lifecycle finds no client): subscribed resources learn it as a cutoff.
      if (deleted) await events.appendCutoff('client', clientId, { tokensValidAfter: now + 1, updatedAt: now });
      return deleted;
    },
  };
  return records;
}

import type { ResourceRecord, ResourceRecords, ScopePolicyRecords, ScopePolicyVersionRecord } from '../store.ts';
import { StoreConflictError } from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement, updateStatement } from './columns.ts';
import { isUniqueViolation, type SqlDriver, type SqlExecutor } from './driver.ts';

const resourceColumns: ColumnMap<ResourceRecord> = {
  id: { column: 'id' },
  uri: { column: 'uri' },
  name: { column: 'name' },
  scopes: { column: 'scopes', json: true },
  defaultScopes: { column: 'default_scopes', json: true },
  downstreamResources: { column: 'downstream_resources', json: true },
  txnTokensAllowed: { column: 'txn_tokens_allowed', bool: true },
  apiKeyId: { column: 'api_key_id' },
  apiKeyHash: { column: 'api_key_hash' },
  previousApiKeyId: { column: 'previous_api_key_id' },
  previousApiKeyHash: { column: 'previous_api_key_hash' },
  previousApiKeyExpiresAt: { column: 'previous_api_key_expires_at' },
  createdAt: { column: 'created_at' },
  updatedAt: { column: 'updated_at' },
};

export function resourceRecords(db: SqlExecutor): ResourceRecords {
  const one = async (sql: string, value: string) => {
    const row = await db.get(sql, [value]);
    return row ? decodeRow(resourceColumns, row) : null;
  };
  return {
    async createResource(record) {
      const [sql, values] = insertStatement('resources', resourceColumns, record);
      try {
        await db.run(sql, values);
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError(`a resource with URI ${record.uri} exists`);
        throw err;
      }
    },
    async setResourceTxnTokensAllowed(id, allowed, updatedAt) {
      return (await db.run('UPDATE resources SET txn_tokens_allowed = ?, updated_at = ? WHERE id = ?', [allowed ? 1 : 0, updatedAt, id])) > 0;
    },
    getResourceByUri: (uri) => one('SELECT * FROM resources WHERE uri = ?', uri),
    async getResourceByApiKeyId(apiKeyId) {
      const row = await db.get('SELECT * FROM resources WHERE api_key_id = ? OR previous_api_key_id = ?', [apiKeyId, apiKeyId]);
      return row ? decodeRow(resourceColumns, row) : null;
    },
    async listResources() {
      return (await db.all('SELECT * FROM resources ORDER BY created_at, id')).map((r) => decodeRow(resourceColumns, r));
    },
    async updateResource(id, patch) {
      const statement = updateStatement('resources', resourceColumns, patch, 'id', id);
      if (!statement) return one('SELECT * FROM resources WHERE id = ?', id);
      const row = await db.get(...statement);
      return row ? decodeRow(resourceColumns, row) : null;
    },
    async deleteResource(id) {
      // Its delegation-chain policy goes with it: a resource registered again under the URI starts without one.
      await db.run("DELETE FROM delegation_policies WHERE owner_kind = 'resource' AND owner_id IN (SELECT uri FROM resources WHERE id = ?)", [id]);
      // So does its revocation webhook, with its delivery log.
      await db.run('DELETE FROM revocation_webhook_deliveries WHERE resource_id = ?', [id]);
      await db.run('DELETE FROM revocation_webhooks WHERE resource_id = ?', [id]);
      return (await db.run('DELETE FROM resources WHERE id = ?', [id])) > 0;
    },
  };
}

const policyVersionColumns: ColumnMap<ScopePolicyVersionRecord> = {
  resourceId: { column: 'resource_id' },
  scope: { column: 'scope' },
  version: { column: 'version' },
  risk: { column: 'risk' },
  policy: { column: 'policy', json: true },
  changedBy: { column: 'changed_by' },
  changedAt: { column: 'changed_at' },
};

/** Scope policies live on the resource's scopes (read with it, no extra query); each edit also keeps its version. */
export function scopePolicyRecords(db: SqlExecutor & Pick<SqlDriver, 'transaction'>): ScopePolicyRecords {
  return {
    async saveScopePolicy(resourceId, scopes, version) {
      await db.transaction(async (tx) => {
        try {
          await tx.run(...insertStatement('scope_policy_versions', policyVersionColumns, version));
        } catch (err) {
          if (isUniqueViolation(err)) throw new StoreConflictError(`version ${version.version} of the policy of ${version.scope} exists`);
          throw err;
        }
        const statement = updateStatement('resources', resourceColumns, { scopes, updatedAt: version.changedAt }, 'id', resourceId);
        await tx.get(...statement!);
      });
    },
    async listScopePolicyVersions(resourceId, scope) {
      const rows = await db.all('SELECT * FROM scope_policy_versions WHERE resource_id = ? AND scope = ? ORDER BY version', [resourceId, scope]);
      return rows.map((r) => decodeRow(policyVersionColumns, r));
    },
  };
}

import type { ResourceRecord, ResourceRecords, ScopePolicyRecords, ScopePolicyVersionRecord } from '../store.ts';
import { StoreConflictError } from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement, updateStatement } from './columns.ts';
import { isUniqueViolation, type SqlDriver, type SqlExecutor, type SqlRow } from './driver.ts';
import type { RevocationEventLog } from './revocation-event-records.ts';

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
  apiKeySince: { column: 'api_key_since' },
  previousApiKeySince: { column: 'previous_api_key_since' },
  createdAt: { column: 'created_at' },
  updatedAt: { column: 'updated_at' },
};

/** A row written before migration 016 counts its key from the resource's creation. */
function decodeResource(row: SqlRow): ResourceRecord {
  const record = decodeRow(resourceColumns, row);
  return record.apiKeySince === null ? { ...record, apiKeySince: record.createdAt } : record;
}

export function resourceRecords(db: SqlExecutor, events: Pick<RevocationEventLog, 'appendCutoff'>): ResourceRecords {
  const one = async (sql: string, value: string) => {
    const row = await db.get(sql, [value]);
    return row ? decodeResource(row) : null;
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
      return row ? decodeResource(row) : null;
    },
    async listResources() {
      return (await db.all('SELECT * FROM resources ORDER BY created_at, id')).map(decodeResource);
    },
    async updateResource(id, patch) {
      const statement = updateStatement('resources', resourceColumns, patch, 'id', id);
      if (!statement) return one('SELECT * FROM resources WHERE id = ?', id);
      const row = await db.get(...statement);
      if (!row) return null;
      const updated = decodeResource(row);
      // A rotation: what the resource server obtained before the oldest key still honoured is cut now.
      if (patch.apiKeySince !== undefined) {
        const cut = updated.previousApiKeySince ?? updated.apiKeySince;
        if (cut > updated.createdAt) await events.appendCutoff('resource', updated.uri, { tokensValidAfter: cut, updatedAt: patch.updatedAt });
      }
      return updated;
    },
    async listEndedResourceKeyGraces(now) {
      return (await db.all('SELECT * FROM resources WHERE previous_api_key_expires_at <= ? ORDER BY id', [now])).map(decodeResource);
    },
    async endResourceKeyGrace(id, now) {
      const row = await db.get(
        `UPDATE resources SET previous_api_key_id = NULL, previous_api_key_hash = NULL, previous_api_key_expires_at = NULL, previous_api_key_since = NULL
         WHERE id = ? AND previous_api_key_expires_at <= ? RETURNING *`,
        [id, now],
      );
      if (!row) return false;
      const ended = decodeResource(row);
      // The old key is no longer honoured: neither is anything the resource server obtained with it.
      await events.appendCutoff('resource', ended.uri, { tokensValidAfter: ended.apiKeySince, updatedAt: now });
      return true;
    },
    async deleteResource(id, now) {
      const uri = (await db.get('SELECT uri FROM resources WHERE id = ?', [id]))?.['uri'];
      // Its delegation-chain policy goes with it: a resource registered again under the URI starts without one.
      await db.run("DELETE FROM delegation_policies WHERE owner_kind = 'resource' AND owner_id IN (SELECT uri FROM resources WHERE id = ?)", [id]);
      // So does its revocation webhook, with its delivery log.
      await db.run('DELETE FROM revocation_webhook_deliveries WHERE resource_id = ?', [id]);
      await db.run('DELETE FROM revocation_webhooks WHERE resource_id = ?', [id]);
      const deleted = (await db.run('DELETE FROM resources WHERE id = ?', [id])) > 0;
      // Every chain that passed through it is dead (the lifecycle finds no resource server): a cutoff tells resources.
      if (deleted && typeof uri === 'string') await events.appendCutoff('resource', uri, { tokensValidAfter: now + 1, updatedAt: now });
      return deleted;
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

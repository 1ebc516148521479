import type { ActionTokenUseRecord, ActionTokenUseRecords, ToolPolicyRecord, ToolPolicyRecords } from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import type { SqlExecutor } from './driver.ts';

const toolPolicyColumns: ColumnMap<ToolPolicyRecord> = {
  resourceId: { column: 'resource_id' },
  tool: { column: 'tool' },
  perActionApproval: { column: 'per_action_approval', bool: true },
  risk: { column: 'risk' },
  updatedBy: { column: 'updated_by' },
  updatedAt: { column: 'updated_at' },
};

const useColumns: ColumnMap<ActionTokenUseRecord> = {
  jti: { column: 'jti' },
  resource: { column: 'resource' },
  clientId: { column: 'client_id' },
  subject: { column: 'subject' },
  tool: { column: 'tool' },
  argumentsSha256: { column: 'arguments_sha256' },
  usedAt: { column: 'used_at' },
  expiresAt: { column: 'expires_at' },
};

/** Tools that take per-action approvals, per resource (issue 12 item 4). */
export function toolPolicyRecords(db: SqlExecutor): ToolPolicyRecords {
  const decode = (row: Record<string, unknown>) => decodeRow(toolPolicyColumns, row);
  return {
    async setToolPolicy(record) {
      const [insert, values] = insertStatement('tool_policies', toolPolicyColumns, record);
      await db.run(
        `${insert} ON CONFLICT (resource_id, tool) DO UPDATE SET per_action_approval = excluded.per_action_approval, risk = excluded.risk, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
        values,
      );
    },
    async getToolPolicy(resourceId, tool) {
      const row = await db.get('SELECT * FROM tool_policies WHERE resource_id = ? AND tool = ?', [resourceId, tool]);
      return row ? decode(row) : null;
    },
    async listToolPolicies(resourceId) {
      return (await db.all('SELECT * FROM tool_policies WHERE resource_id = ? ORDER BY tool', [resourceId])).map(decode);
    },
    async deleteToolPolicy(resourceId, tool) {
      return (await db.run('DELETE FROM tool_policies WHERE resource_id = ? AND tool = ?', [resourceId, tool])) > 0;
    },
  };
}

/** The single use of action tokens: the primary key on `jti` decides which of two racing uses is first. */
export function actionTokenUseRecords(db: SqlExecutor): ActionTokenUseRecords {
  return {
    async recordActionTokenUse(record) {
      const [insert, values] = insertStatement('action_token_uses', useColumns, record);
      return (await db.run(`${insert} ON CONFLICT (jti) DO NOTHING`, values)) > 0;
    },
    async getActionTokenUse(jti) {
      const row = await db.get('SELECT * FROM action_token_uses WHERE jti = ?', [jti]);
      return row ? decodeRow(useColumns, row) : null;
    },
  };
}

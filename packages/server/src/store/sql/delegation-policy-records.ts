import type { DelegationPolicyRecords } from '../store.ts';
import type { SqlExecutor } from './driver.ts';

/** Delegation-chain policies by owner (a resource URI, an agent id), as JSON (text in SQLite, jsonb in PostgreSQL). */
export function delegationPolicyRecords(db: SqlExecutor): DelegationPolicyRecords {
  return {
    async getDelegationPolicy(ownerKind, ownerId) {
      const row = await db.get('SELECT policy FROM delegation_policies WHERE owner_kind = ? AND owner_id = ?', [ownerKind, ownerId]);
      if (!row) return null;
      return typeof row['policy'] === 'string' ? JSON.parse(row['policy']) : (row['policy'] as never);
    },
    async setDelegationPolicy(ownerKind, ownerId, policy, now) {
      if (policy === null) {
        await db.run('DELETE FROM delegation_policies WHERE owner_kind = ? AND owner_id = ?', [ownerKind, ownerId]);
        return;
      }
      await db.run(
        `INSERT INTO delegation_policies (owner_kind, owner_id, policy, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (owner_kind, owner_id) DO UPDATE SET policy = excluded.policy, updated_at = excluded.updated_at`,
        [ownerKind, ownerId, JSON.stringify(policy), now],
      );
    },
  };
}

import type { ApprovalRequestRecord, ApprovalRequestRecords } from '../store.ts';
import { type ColumnMap, decodeRow, insertStatement } from './columns.ts';
import type { SqlDriver, SqlRow, SqlValue } from './driver.ts';
import { queueApprovalEvents } from './approval-webhook-records.ts';

type StoredApproval = Omit<ApprovalRequestRecord, 'authorizationDetails'>;

const approvalColumns: ColumnMap<StoredApproval> = {
  id: { column: 'id' },
  status: { column: 'status' },
  clientId: { column: 'client_id' },
  chain: { column: 'chain', json: true },
  userId: { column: 'user_id' },
  scopes: { column: 'scopes', json: true },
  resources: { column: 'resources', json: true },
  justification: { column: 'justification' },
  risk: { column: 'risk' },
  requestKey: { column: 'request_key' },
  createdAt: { column: 'created_at' },
  expiresAt: { column: 'expires_at' },
  decidedBy: { column: 'decided_by' },
  decidedAt: { column: 'decided_at' },
  reason: { column: 'reason' },
  usedAt: { column: 'used_at' },
  authReqHash: { column: 'auth_req_hash' },
  pollInterval: { column: 'poll_interval' },
  lastPolledAt: { column: 'last_polled_at' },
  pingSealed: { column: 'ping_sealed' },
  pingStatus: { column: 'ping_status' },
  pingAttempts: { column: 'ping_attempts' },
  pingNextAttemptAt: { column: 'ping_next_attempt_at' },
  pingLastResult: { column: 'ping_last_result' },
};

/** Every read joins the request's authorization details (kept in their own table: migration 038). */
const SELECT = 'SELECT a.*, d.details AS authorization_details FROM approval_requests a LEFT JOIN approval_authorization_details d ON d.approval_id = a.id';

/** An approval request's row (with its joined `authorization_details`) as a record. */
export function decodeApprovalRow(row: SqlRow): ApprovalRequestRecord {
  const details = row['authorization_details'];
  return { ...decodeRow(approvalColumns, row), authorizationDetails: details === null || details === undefined ? null : typeof details === 'string' ? JSON.parse(details) : details };
}

/**
 * The approval queue. Expiry is decided by the caller's clock on every read and write; `expireApprovalRequests`
 * (a timer) marks the past ones and queues their webhook events. Every event (created, approved, denied, expired) is
 * queued for the approval webhooks in the transaction that makes it happen.
 */
export function approvalRequestRecords(db: SqlDriver): ApprovalRequestRecords {
  const decode = decodeApprovalRow;
  const listeners = new Set<() => void>();
  const announce = () => {
    for (const listener of listeners) listener();
  };
  return {
    onApprovalEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async createApprovalRequest(record) {
      const { authorizationDetails, ...stored } = record;
      await db.transaction(async (tx) => {
        await tx.run(...insertStatement('approval_requests', approvalColumns, stored));
        if (authorizationDetails) await tx.run('INSERT INTO approval_authorization_details (approval_id, details) VALUES (?, ?)', [record.id, JSON.stringify(authorizationDetails)]);
        await queueApprovalEvents(tx, 'created', { where: 'a.id = ?', params: [record.id], occurred: 'a.created_at' }, record.createdAt);
      });
      announce();
    },
    async getApprovalRequest(id) {
      const row = await db.get(`${SELECT} WHERE a.id = ?`, [id]);
      return row ? decode(row) : null;
    },
    async findOpenApprovalRequest(clientId, requestKey, now) {
      const row = await db.get(
        `${SELECT} WHERE a.client_id = ? AND a.request_key = ? AND a.expires_at > ?
           AND (a.status = 'pending' OR (a.status = 'approved' AND a.used_at IS NULL)) ORDER BY a.created_at DESC, a.id DESC LIMIT 1`,
        [clientId, requestKey, now],
      );
      return row ? decode(row) : null;
    },
    async listApprovalRequests(filter, now) {
      const conditions: string[] = [];
      const params: SqlValue[] = [];
      // Read only: a pending request past its expiry is expired whether or not the timer has marked it yet.
      if (filter.status === 'pending') {
        conditions.push("a.status = 'pending' AND a.expires_at > ?");
        params.push(now);
      } else if (filter.status === 'expired') {
        conditions.push("(a.status = 'expired' OR (a.status = 'pending' AND a.expires_at <= ?))");
        params.push(now);
      } else if (filter.status) {
        conditions.push('a.status = ?');
        params.push(filter.status);
      }
      if (filter.userId !== undefined) {
        conditions.push('a.user_id = ?');
        params.push(filter.userId);
      }
      const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
      const rows = await db.all(`${SELECT} ${where} ORDER BY a.created_at DESC, a.id DESC LIMIT 500`, params);
      return rows.map(decode);
    },
    async expireApprovalRequests(now) {
      const due = await db.get("SELECT 1 AS due FROM approval_requests WHERE status = 'pending' AND expires_at <= ? LIMIT 1", [now]);
      if (due === undefined) return 0;
      const expired = await db.transaction(async (tx) => {
        await queueApprovalEvents(tx, 'expired', { where: "a.status = 'pending' AND a.expires_at <= ?", params: [now], occurred: 'a.expires_at' }, now);
        return tx.run("UPDATE approval_requests SET status = 'expired' WHERE status = 'pending' AND expires_at <= ?", [now]);
      });
      if (expired > 0) announce();
      return expired;
    },
    async decideApprovalRequest(id, decision, now) {
      const decided = await db.transaction(async (tx) => {
        // A ping waiting for this decision falls due with it, in the same statement (CIBA §10.2).
        const changed = await tx.run(
          `UPDATE approval_requests SET status = ?, decided_by = ?, decided_at = ?, reason = ?,
             ping_status = CASE WHEN ping_status = 'waiting' THEN 'pending' ELSE ping_status END,
             ping_next_attempt_at = CASE WHEN ping_status = 'waiting' THEN ? ELSE ping_next_attempt_at END
           WHERE id = ? AND status = 'pending' AND expires_at > ?`,
          [decision.status, decision.decidedBy, now, decision.reason, now, id, now],
        );
        if (changed > 0) await queueApprovalEvents(tx, decision.status, { where: 'a.id = ?', params: [id], occurred: 'a.decided_at' }, now);
        return changed > 0;
      });
      if (decided) announce();
      return decided;
    },
    async getApprovalRequestByAuthReq(authReqHash) {
      const row = await db.get(`${SELECT} WHERE a.auth_req_hash = ?`, [authReqHash]);
      return row ? decode(row) : null;
    },
    async pollApprovalRequest(id, now, { initial, step }) {
      // One conditional write each: of two concurrent polls only one finds the interval passed (the other, whose
      // write waits for the first, then sees the new last_polled_at), and a decision in between leaves both alone.
      const passed = await db.get(
        `UPDATE approval_requests SET last_polled_at = ?, poll_interval = COALESCE(poll_interval, ?)
         WHERE id = ? AND status = 'pending' AND (last_polled_at IS NULL OR ? - last_polled_at >= COALESCE(poll_interval, ?)) RETURNING poll_interval`,
        [now, initial, id, now, initial],
      );
      if (passed) return { outcome: 'pending', interval: Number(passed['poll_interval']) };
      const slowed = await db.get(
        `UPDATE approval_requests SET last_polled_at = ?, poll_interval = COALESCE(poll_interval, ?) + ? WHERE id = ? AND status = 'pending' RETURNING poll_interval`,
        [now, initial, step, id],
      );
      return slowed ? { outcome: 'slow_down', interval: Number(slowed['poll_interval']) } : { outcome: 'decided' };
    },
    async claimDueCibaPings(now, leaseSeconds, limit) {
      const due = await db.get("SELECT 1 AS due FROM approval_requests WHERE ping_status = 'pending' AND ping_next_attempt_at <= ? LIMIT 1", [now]);
      if (due === undefined) return [];
      // Claimed by moving the next attempt on, only where it is still due: another instance's claim wins.
      const claimed: ApprovalRequestRecord[] = [];
      for (const row of await db.all("SELECT * FROM approval_requests WHERE ping_status = 'pending' AND ping_next_attempt_at <= ? ORDER BY ping_next_attempt_at, id LIMIT ?", [now, limit])) {
        const record = decode(row);
        const took = await db.run("UPDATE approval_requests SET ping_next_attempt_at = ? WHERE id = ? AND ping_status = 'pending' AND ping_next_attempt_at = ?", [
          now + leaseSeconds,
          record.id,
          record.pingNextAttemptAt ?? null,
        ]);
        if (took > 0) claimed.push(record);
      }
      return claimed;
    },
    async recordCibaPingAttempt(id, outcome) {
      await db.run('UPDATE approval_requests SET ping_status = ?, ping_attempts = ?, ping_next_attempt_at = ?, ping_last_result = ? WHERE id = ?', [
        outcome.status,
        outcome.attempts,
        outcome.nextAttemptAt,
        outcome.lastResult,
        id,
      ]);
    },
    async useApprovalRequest(id, now) {
      return (await db.run(`UPDATE approval_requests SET used_at = ? WHERE id = ? AND status = 'approved' AND used_at IS NULL AND expires_at > ?`, [now, id, now])) > 0;
    },
  };
}

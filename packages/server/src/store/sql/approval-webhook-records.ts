import type { ApprovalEventKind, ApprovalWebhookDeliveryRecord, ApprovalWebhookRecord, ApprovalWebhookRecords, ClaimedApprovalDelivery } from '../approval-webhooks.ts';
import type { WebhookDeliveryStatus } from '../revocation-webhooks.ts';
import type { SqlDriver, SqlExecutor, SqlRow, SqlValue } from './driver.ts';

const webhook = (row: SqlRow): ApprovalWebhookRecord => ({
  id: String(row['webhook_id'] ?? row['id']),
  url: String(row['url']),
  secretEncrypted: String(row['secret_encrypted']),
  createdAt: Number(row['webhook_created_at'] ?? row['created_at']),
});

const delivery = (row: SqlRow): ApprovalWebhookDeliveryRecord => ({
  webhookId: String(row['webhook_id']),
  approvalId: String(row['approval_id']),
  event: String(row['event']) as ApprovalEventKind,
  occurredAt: Number(row['occurred_at']),
  status: String(row['status']) as WebhookDeliveryStatus,
  attempts: Number(row['attempts']),
  nextAttemptAt: Number(row['next_attempt_at']),
  lastResult: row['last_result'] == null ? null : String(row['last_result']),
  updatedAt: Number(row['updated_at']),
});

/**
 * Queues one pending delivery (due at `now`) of an approval event per approval webhook. Called inside the
 * transaction that makes the event happen (approval-request-records.ts); `approvals` selects the requests it is
 * about (`a`), with their `occurred` time, so one statement queues a whole batch of expiries.
 */
export async function queueApprovalEvents(tx: SqlExecutor, event: ApprovalEventKind, approvals: { where: string; params: readonly SqlValue[]; occurred: string }, now: number): Promise<void> {
  await tx.run(
    `INSERT INTO approval_webhook_deliveries (webhook_id, approval_id, event, occurred_at, status, attempts, next_attempt_at, last_result, updated_at)
     SELECT w.id, a.id, ?, ${approvals.occurred}, 'pending', 0, ?, NULL, ? FROM approval_webhooks w CROSS JOIN approval_requests a WHERE ${approvals.where}
     ON CONFLICT (webhook_id, approval_id, event) DO NOTHING`,
    [event, now, now, ...approvals.params],
  );
}

export function approvalWebhookRecords(db: SqlDriver, decodeApproval: (row: SqlRow) => ClaimedApprovalDelivery['approval']): ApprovalWebhookRecords {
  return {
    async createApprovalWebhook(record) {
      await db.run('INSERT INTO approval_webhooks (id, url, secret_encrypted, created_at) VALUES (?, ?, ?, ?)', [record.id, record.url, record.secretEncrypted, record.createdAt]);
    },
    async listApprovalWebhooks() {
      return (await db.all('SELECT * FROM approval_webhooks ORDER BY created_at, id')).map(webhook);
    },
    async getApprovalWebhook(id) {
      const row = await db.get('SELECT * FROM approval_webhooks WHERE id = ?', [id]);
      return row ? webhook(row) : null;
    },
    async deleteApprovalWebhook(id) {
      return db.transaction(async (tx) => {
        await tx.run('DELETE FROM approval_webhook_deliveries WHERE webhook_id = ?', [id]);
        return (await tx.run('DELETE FROM approval_webhooks WHERE id = ?', [id])) > 0;
      });
    },
    async claimDueApprovalDeliveries(now, leaseSeconds, limit) {
      // Every instance asks every round: a plain read first, so that nothing is locked when nothing is due.
      const due = await db.get("SELECT 1 AS due FROM approval_webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 1", [now]);
      if (due === undefined) return [];
      const claimed: ClaimedApprovalDelivery[] = [];
      const rows = await db.all(
        `SELECT d.*, w.url, w.secret_encrypted, w.created_at AS webhook_created_at FROM approval_webhook_deliveries d JOIN approval_webhooks w ON w.id = d.webhook_id
         WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.occurred_at LIMIT ?`,
        [now, limit],
      );
      for (const row of rows) {
        // Claimed by moving the next attempt on, only where it is still due: another instance's claim wins.
        const took = await db.run(
          "UPDATE approval_webhook_deliveries SET next_attempt_at = ? WHERE webhook_id = ? AND approval_id = ? AND event = ? AND status = 'pending' AND next_attempt_at = ?",
          [now + leaseSeconds, String(row['webhook_id']), String(row['approval_id']), String(row['event']), Number(row['next_attempt_at'])],
        );
        if (took === 0) continue;
        const approval = await db.get(
          'SELECT a.*, d.details AS authorization_details FROM approval_requests a LEFT JOIN approval_authorization_details d ON d.approval_id = a.id WHERE a.id = ?',
          [String(row['approval_id'])],
        );
        claimed.push({ delivery: delivery(row), webhook: webhook(row), approval: approval ? decodeApproval(approval) : null });
      }
      return claimed;
    },
    async recordApprovalDeliveryAttempt(key, outcome) {
      await db.run(
        'UPDATE approval_webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_result = ?, updated_at = ? WHERE webhook_id = ? AND approval_id = ? AND event = ?',
        [outcome.status, outcome.attempts, outcome.nextAttemptAt, outcome.lastResult, outcome.updatedAt, key.webhookId, key.approvalId, key.event],
      );
    },
    async listApprovalDeliveries(webhookId, limit) {
      return (await db.all('SELECT * FROM approval_webhook_deliveries WHERE webhook_id = ? ORDER BY occurred_at DESC, approval_id DESC, event DESC LIMIT ?', [webhookId, limit])).map(delivery);
    },
  };
}

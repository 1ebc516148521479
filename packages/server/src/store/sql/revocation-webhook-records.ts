import type { RevocationEvent } from '@mandate/protocol';
import type { ClaimedWebhookDelivery, RevocationWebhookRecord, RevocationWebhookRecords, WebhookDeliveryRecord, WebhookDeliveryStatus } from '../revocation-webhooks.ts';
import type { SqlDriver, SqlRow } from './driver.ts';
import { APPEND_LOCK } from './revocation-event-records.ts';

const webhook = (row: SqlRow): RevocationWebhookRecord => ({
  resourceId: String(row['resource_id']),
  url: String(row['url']),
  secretEncrypted: String(row['secret_encrypted']),
  lastEventId: Number(row['last_event_id']),
  createdAt: Number(row['created_at']),
});

const delivery = (row: SqlRow): WebhookDeliveryRecord => ({
  resourceId: String(row['resource_id']),
  eventId: Number(row['event_id']),
  status: String(row['status']) as WebhookDeliveryStatus,
  attempts: Number(row['attempts']),
  nextAttemptAt: Number(row['next_attempt_at']),
  lastResult: row['last_result'] == null ? null : String(row['last_result']),
  updatedAt: Number(row['updated_at']),
});

export function revocationWebhookRecords(db: SqlDriver): RevocationWebhookRecords {
  return {
    async setRevocationWebhook(record) {
      await db.run(
        `INSERT INTO revocation_webhooks (resource_id, url, secret_encrypted, last_event_id, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (resource_id) DO UPDATE SET url = excluded.url, secret_encrypted = excluded.secret_encrypted`,
        [record.resourceId, record.url, record.secretEncrypted, record.lastEventId, record.createdAt],
      );
    },
    async getRevocationWebhook(resourceId) {
      const row = await db.get('SELECT * FROM revocation_webhooks WHERE resource_id = ?', [resourceId]);
      return row ? webhook(row) : null;
    },
    async deleteRevocationWebhook(resourceId) {
      await db.run('DELETE FROM revocation_webhook_deliveries WHERE resource_id = ?', [resourceId]);
      return (await db.run('DELETE FROM revocation_webhooks WHERE resource_id = ?', [resourceId])) > 0;
    },
    async enqueueWebhookDeliveries(now, concerns) {
      // Every instance asks every poll interval: a plain read first, so that nothing is locked when nothing is new.
      const behind = await db.get('SELECT 1 AS behind FROM revocation_webhooks WHERE last_event_id < (SELECT COALESCE(MAX(id), 0) FROM revocation_events) LIMIT 1');
      if (behind === undefined) return 0;
      // Under the appends' own lock: no event commits between the queueing and the cursors' move.
      return db.transaction(async (tx) => {
        const hooks = await tx.all(
          `SELECT w.resource_id, w.last_event_id, r.uri FROM revocation_webhooks w LEFT JOIN resources r ON r.id = w.resource_id
           WHERE w.last_event_id < (SELECT MAX(id) FROM revocation_events)`,
        );
        if (hooks.length === 0) return 0;
        const from = Math.min(...hooks.map((hook) => Number(hook['last_event_id'])));
        const events = (await tx.all('SELECT id, payload FROM revocation_events WHERE id > ? ORDER BY id', [from])).map((row) => ({
          id: Number(row['id']),
          event: JSON.parse(String(row['payload'])) as RevocationEvent,
        }));
        let queued = 0;
        for (const hook of hooks) {
          const resourceId = String(hook['resource_id']);
          const after = Number(hook['last_event_id']);
          // A webhook whose resource is gone learns only what every resource does.
          const uri = hook['uri'] == null ? null : String(hook['uri']);
          for (const { id, event } of events) {
            if (id <= after || !(uri === null ? event.aud === undefined : concerns(event, uri))) continue;
            queued += await tx.run(
              `INSERT INTO revocation_webhook_deliveries (resource_id, event_id, status, attempts, next_attempt_at, last_result, updated_at)
               VALUES (?, ?, 'pending', 0, ?, NULL, ?) ON CONFLICT (resource_id, event_id) DO NOTHING`,
              [resourceId, id, now, now],
            );
          }
        }
        await tx.run('UPDATE revocation_webhooks SET last_event_id = ? WHERE last_event_id < ?', [events.at(-1)!.id, events.at(-1)!.id]);
        return queued;
      }, APPEND_LOCK);
    },
    async claimDueWebhookDeliveries(now, leaseSeconds, limit) {
      const due = await db.get("SELECT 1 AS due FROM revocation_webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 1", [now]);
      if (due === undefined) return [];
      return db.transaction(async (tx) => {
        const rows = await tx.all(
          `SELECT d.*, w.url, w.secret_encrypted, w.last_event_id, w.created_at, e.payload FROM revocation_webhook_deliveries d
           JOIN revocation_webhooks w ON w.resource_id = d.resource_id LEFT JOIN revocation_events e ON e.id = d.event_id
           WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.event_id LIMIT ?`,
          [now, limit],
        );
        const claimed: ClaimedWebhookDelivery[] = [];
        for (const row of rows) {
          await tx.run('UPDATE revocation_webhook_deliveries SET next_attempt_at = ? WHERE resource_id = ? AND event_id = ?', [now + leaseSeconds, String(row['resource_id']), Number(row['event_id'])]);
          claimed.push({ delivery: delivery(row), webhook: webhook(row), event: row['payload'] == null ? null : (JSON.parse(String(row['payload'])) as RevocationEvent) });
        }
        return claimed;
      }, APPEND_LOCK + 1);
    },
    async recordWebhookAttempt(resourceId, eventId, outcome) {
      await db.run(
        'UPDATE revocation_webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_result = ?, updated_at = ? WHERE resource_id = ? AND event_id = ?',
        [outcome.status, outcome.attempts, outcome.nextAttemptAt, outcome.lastResult, outcome.updatedAt, resourceId, eventId],
      );
    },
    async listWebhookDeliveries(resourceId, limit) {
      return (await db.all('SELECT * FROM revocation_webhook_deliveries WHERE resource_id = ? ORDER BY event_id DESC LIMIT ?', [resourceId, limit])).map(delivery);
    },
  };
}

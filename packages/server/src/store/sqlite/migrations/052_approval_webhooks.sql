-- Approval webhooks (issue 12 item 5): operator-configured URLs that receive approval events (created, approved,
-- denied, expired), each POST signed with HMAC-SHA256 under the webhook's secret. The secret is stored encrypted
-- under the webhook key derived from the KEK (the server needs it to sign). Each event is queued once per webhook,
-- in the transaction that makes it happen, as a delivery that is retried with backoff and kept as the delivery log.
CREATE TABLE approval_webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  secret_encrypted TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE approval_webhook_deliveries (
  webhook_id TEXT NOT NULL,
  approval_id TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('created', 'approved', 'denied', 'expired')),
  occurred_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_result TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (webhook_id, approval_id, event)
) STRICT;
CREATE INDEX approval_webhook_deliveries_due ON approval_webhook_deliveries (status, next_attempt_at);
CREATE INDEX approval_webhook_deliveries_log ON approval_webhook_deliveries (webhook_id, occurred_at);

-- Revocation webhooks (issue 11 item 3): a resource's URL for HMAC-SHA256-signed revocation events, its signing
-- secret encrypted under a key derived from the KEK (the server needs the secret itself to sign, so it cannot be
-- hashed), and the last event id already queued for it. Each event is queued once per webhook as a delivery, which
-- is retried with backoff and kept as the delivery log until its event is purged.
CREATE TABLE revocation_webhooks (
  resource_id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  secret_encrypted TEXT NOT NULL,
  last_event_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE revocation_webhook_deliveries (
  resource_id TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_result TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (resource_id, event_id)
) STRICT;
CREATE INDEX revocation_webhook_deliveries_due ON revocation_webhook_deliveries (status, next_attempt_at);

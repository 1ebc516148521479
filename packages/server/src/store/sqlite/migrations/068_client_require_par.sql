-- RFC 9126 §6 client metadata require_pushed_authorization_requests: this client's plain authorization requests
-- are refused; it must push them first.
ALTER TABLE clients ADD COLUMN require_pushed_authorization_requests INTEGER NOT NULL DEFAULT 0;

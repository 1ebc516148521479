-- Approval requests (issue 12 item 2): grants a scope policy sent to approvers. Expiry is checked on every read
-- and write against the server's clock; an approved request is good for one token (used_at).
CREATE TABLE approval_requests (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  client_id TEXT NOT NULL,
  chain TEXT NOT NULL,
  user_id TEXT,
  scopes TEXT NOT NULL,
  resources TEXT NOT NULL,
  justification TEXT,
  risk TEXT NOT NULL,
  request_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  decided_by TEXT,
  decided_at INTEGER,
  reason TEXT,
  used_at INTEGER
) STRICT;
CREATE INDEX approval_requests_open ON approval_requests (client_id, request_key, created_at);
CREATE INDEX approval_requests_status ON approval_requests (status, created_at);

-- Admin API tokens get a role (admin, approver, viewer; deny by default) and may speak for a user.
ALTER TABLE admin_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
ALTER TABLE admin_tokens ADD COLUMN user_id TEXT;

-- RFC 8628 device authorization requests (issue 13 item 7). The device code and the user code are stored as their
-- SHA-256 only (the user code after normalisation: upper case, no dash); a request is decided once by a signed-in
-- user on the verification page, then redeemed once at the token endpoint.

CREATE TABLE device_authorizations (
  id TEXT PRIMARY KEY,
  device_code_hash TEXT NOT NULL UNIQUE,
  user_code_hash TEXT NOT NULL UNIQUE,
  client_id TEXT NOT NULL,
  scopes TEXT NOT NULL,                    -- JSON array: what the verification page shows
  resources TEXT NOT NULL,                 -- JSON array of canonical resource URIs
  status TEXT NOT NULL,                  -- pending | approved | denied
  user_id TEXT,                          -- who decided
  auth_time INTEGER,                          -- when that user signed in
  amr TEXT,                                -- how (RFC 8176), carried into the grant
  reason TEXT,                           -- why it was denied
  poll_interval INTEGER NOT NULL,             -- seconds; grows by 5 on each slow_down
  last_polled_at INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  decided_at INTEGER,
  used_at INTEGER
);
CREATE INDEX device_authorizations_expiry ON device_authorizations (expires_at);

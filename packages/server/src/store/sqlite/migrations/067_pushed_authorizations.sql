-- RFC 9126 pushed authorization requests: the validated parameters a client pushed, under the SHA-256 of the
-- request_uri it was given; single use (deleted when taken), short-lived (purged once expired).

CREATE TABLE pushed_authorizations (
  uri_hash TEXT PRIMARY KEY,
  client_id TEXT NOT NULL,
  params TEXT NOT NULL,                  -- the authorization request as a form string
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX pushed_authorizations_expiry ON pushed_authorizations (expires_at);

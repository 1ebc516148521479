-- Clients (agents and OAuth applications), resources, admin tokens, signing keys, revocations, replay markers and
-- the hash-chained audit trail. Secrets appear only as hex SHA-256 hashes; see docs/storage.md.

CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('agent', 'app')),
  name TEXT NOT NULL,
  description TEXT,
  owner TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  allowed_scopes TEXT NOT NULL,          -- JSON array
  allowed_audiences TEXT NOT NULL,       -- JSON array
  access_token_ttl_seconds INTEGER,
  token_endpoint_auth_method TEXT NOT NULL,
  secret_hash TEXT,
  previous_secret_hash TEXT,
  previous_secret_expires_at INTEGER,
  jwks TEXT,                             -- JSON object or NULL
  redirect_uris TEXT NOT NULL,           -- JSON array
  grant_types TEXT NOT NULL,             -- JSON array
  tokens_valid_after INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX clients_kind ON clients (kind);

CREATE TABLE resources (
  id TEXT PRIMARY KEY,
  uri TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  scopes TEXT NOT NULL,                  -- JSON array of {name, description, risk}
  api_key_id TEXT NOT NULL UNIQUE,
  api_key_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE admin_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;

CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  private_key_encrypted TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
  created_at INTEGER NOT NULL,
  retired_at INTEGER,
  publish_until INTEGER
) STRICT;
-- At most one active key, even when several instances start at once.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active';

CREATE TABLE revoked_tokens (
  jti TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE replay_markers (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  event TEXT NOT NULL,
  actor TEXT,
  subject TEXT,
  client_id TEXT,
  ip TEXT,
  detail TEXT NOT NULL,                  -- JSON object
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_event ON audit_log (event, seq);
CREATE INDEX audit_log_client ON audit_log (client_id, seq);
CREATE INDEX audit_log_ts ON audit_log (ts_ms);

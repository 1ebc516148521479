-- Clients (agents and OAuth applications), resources, admin tokens, signing keys, revocations, replay markers and
-- the hash-chained audit trail. Secrets appear only as hex SHA-256 hashes; see docs/storage.md.

CREATE TABLE clients (
  client_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('agent', 'app')),
  name TEXT NOT NULL,
  description TEXT,
  owner TEXT,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  allowed_scopes JSONB NOT NULL,
  allowed_audiences JSONB NOT NULL,
  access_token_ttl_seconds INTEGER,
  token_endpoint_auth_method TEXT NOT NULL,
  secret_hash TEXT,
  previous_secret_hash TEXT,
  previous_secret_expires_at BIGINT,
  jwks JSONB,
  redirect_uris JSONB NOT NULL,
  grant_types JSONB NOT NULL,
  tokens_valid_after BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX clients_kind ON clients (kind);

CREATE TABLE resources (
  id TEXT PRIMARY KEY,
  uri TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  scopes JSONB NOT NULL,
  api_key_id TEXT NOT NULL UNIQUE,
  api_key_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE admin_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);

CREATE TABLE signing_keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk JSONB NOT NULL,
  private_key_encrypted TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'retired')),
  created_at BIGINT NOT NULL,
  retired_at BIGINT,
  publish_until BIGINT
);
-- At most one active key, even when several instances start at once.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active';

CREATE TABLE revoked_tokens (
  jti TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);

CREATE TABLE replay_markers (
  key TEXT PRIMARY KEY,
  expires_at BIGINT NOT NULL
);

CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  ts_ms BIGINT NOT NULL,
  event TEXT NOT NULL,
  actor TEXT,
  subject TEXT,
  client_id TEXT,
  ip TEXT,
  detail TEXT NOT NULL,                  -- JSON object, kept as written so its hash stays verifiable
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_log_event ON audit_log (event, seq);
CREATE INDEX audit_log_client ON audit_log (client_id, seq);
CREATE INDEX audit_log_ts ON audit_log (ts_ms);

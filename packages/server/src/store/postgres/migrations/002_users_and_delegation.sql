-- Users and their credentials (password, passkeys, upstream OpenID identities), browser sessions, login
-- throttling, user grants with their authorization codes and refresh-token families, and remembered consent.
-- Codes, refresh tokens, session ids and upstream `state` values appear only as hex SHA-256 hashes.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT UNIQUE,                     -- lower-cased; NULL for an upstream account that shared no email
  email_verified BOOLEAN NOT NULL,
  name TEXT,
  password_hash TEXT,                    -- scrypt, versioned (see src/users/password.ts); NULL when none
  is_admin BOOLEAN NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  tokens_valid_after BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE user_identities (
  issuer TEXT NOT NULL,
  subject TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider_id TEXT NOT NULL,
  email TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user ON user_identities (user_id);

CREATE TABLE passkeys (
  credential_id TEXT PRIMARY KEY,        -- base64url
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key TEXT NOT NULL,              -- base64url COSE key
  counter BIGINT NOT NULL,
  transports JSONB NOT NULL,              -- JSON array
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT
);
CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,   -- NULL until someone logs in
  auth_time BIGINT,
  amr JSONB NOT NULL,                     -- JSON array (RFC 8176 values)
  challenge TEXT,                        -- pending WebAuthn challenge (not a secret: the browser sees it)
  challenge_expires_at BIGINT,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE upstream_login_states (
  state_hash TEXT PRIMARY KEY,
  session_hash TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  return_to TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);

CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,                  -- 'account:<email hash>' or 'ip:<address>'
  failures INTEGER NOT NULL,
  locked_until BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE user_grants (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  actor_id TEXT,                         -- the agent named by requested_actor, if any
  scopes JSONB NOT NULL,                  -- JSON array
  resources JSONB NOT NULL,               -- JSON array of canonical resource URIs
  auth_time BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,           -- the refresh-token family's absolute end
  revoked_at BIGINT
);
CREATE INDEX user_grants_user ON user_grants (user_id, client_id);

CREATE TABLE authorization_codes (
  code_hash TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES user_grants (id) ON DELETE CASCADE,
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  nonce TEXT,
  expires_at BIGINT NOT NULL,
  consumed_at BIGINT
);

CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES user_grants (id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN ('active', 'rotated')),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE consents (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  actor_id TEXT NOT NULL,                -- '' when no agent was named
  resource TEXT NOT NULL,                -- '' for identity-only (OpenID) consent
  scopes JSONB NOT NULL,                  -- JSON array
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, client_id, actor_id, resource)
);

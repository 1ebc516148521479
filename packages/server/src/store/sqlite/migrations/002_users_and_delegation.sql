-- Users and their credentials (password, passkeys, upstream OpenID identities), browser sessions, login
-- throttling, user grants with their authorization codes and refresh-token families, and remembered consent.
-- Codes, refresh tokens, session ids and upstream `state` values appear only as hex SHA-256 hashes.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT UNIQUE,                     -- lower-cased; NULL for an upstream account that shared no email
  email_verified INTEGER NOT NULL,
  name TEXT,
  password_hash TEXT,                    -- scrypt, versioned (see src/users/password.ts); NULL when none
  is_admin INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
  tokens_valid_after INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE user_identities (
  issuer TEXT NOT NULL,
  subject TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  provider_id TEXT NOT NULL,
  email TEXT,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (issuer, subject)
) STRICT;
CREATE INDEX user_identities_user ON user_identities (user_id);

CREATE TABLE passkeys (
  credential_id TEXT PRIMARY KEY,        -- base64url
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key TEXT NOT NULL,              -- base64url COSE key
  counter INTEGER NOT NULL,
  transports TEXT NOT NULL,              -- JSON array
  name TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
) STRICT;
CREATE INDEX passkeys_user ON passkeys (user_id);

CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users (id) ON DELETE CASCADE,   -- NULL until someone logs in
  auth_time INTEGER,
  amr TEXT NOT NULL,                     -- JSON array (RFC 8176 values)
  challenge TEXT,                        -- pending WebAuthn challenge (not a secret: the browser sees it)
  challenge_expires_at INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE upstream_login_states (
  state_hash TEXT PRIMARY KEY,
  session_hash TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  return_to TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;

CREATE TABLE login_throttle (
  key TEXT PRIMARY KEY,                  -- 'account:<email hash>' or 'ip:<address>'
  failures INTEGER NOT NULL,
  locked_until INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE user_grants (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  actor_id TEXT,                         -- the agent named by requested_actor, if any
  scopes TEXT NOT NULL,                  -- JSON array
  resources TEXT NOT NULL,               -- JSON array of canonical resource URIs
  auth_time INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,           -- the refresh-token family's absolute end
  revoked_at INTEGER
) STRICT;
CREATE INDEX user_grants_user ON user_grants (user_id, client_id);

CREATE TABLE authorization_codes (
  code_hash TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES user_grants (id) ON DELETE CASCADE,
  redirect_uri TEXT NOT NULL,
  code_challenge TEXT NOT NULL,
  nonce TEXT,
  expires_at INTEGER NOT NULL,
  consumed_at INTEGER
) STRICT;

CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES user_grants (id) ON DELETE CASCADE,
  status TEXT NOT NULL CHECK (status IN ('active', 'rotated')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX refresh_tokens_grant ON refresh_tokens (grant_id);

CREATE TABLE consents (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_id TEXT NOT NULL,
  actor_id TEXT NOT NULL,                -- '' when no agent was named
  resource TEXT NOT NULL,                -- '' for identity-only (OpenID) consent
  scopes TEXT NOT NULL,                  -- JSON array
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, client_id, actor_id, resource)
) STRICT;

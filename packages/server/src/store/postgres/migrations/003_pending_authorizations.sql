-- Authorization requests waiting for consent: the consent page carries only a random id (stored here as its
-- SHA-256), the validated request stays on the server, bound to the browser session that saw the page, single use.

CREATE TABLE pending_authorizations (
  id_hash TEXT PRIMARY KEY,
  session_hash TEXT NOT NULL,            -- the browser session's id hash
  client_id TEXT NOT NULL,
  actor_id TEXT,                         -- the agent named by requested_actor, if any
  redirect_uri TEXT NOT NULL,
  state TEXT,
  code_challenge TEXT NOT NULL,          -- S256
  nonce TEXT,
  scopes JSONB NOT NULL,                 -- JSON array: what the consent page showed
  resources JSONB NOT NULL,              -- JSON array of canonical resource URIs
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX pending_authorizations_expiry ON pending_authorizations (expires_at);

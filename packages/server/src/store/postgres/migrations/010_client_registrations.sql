-- How a client came to be, for clients that registered themselves (issue 9): by dynamic client registration
-- (RFC 7591, managed with RFC 7592's registration access token, kept as its SHA-256 only) or by a Client ID
-- Metadata Document fetched from its client_id URL (kept until document_expires_at, within the configured bounds).
-- Clients created by an operator (CLI, admin API) have no row here. The row goes with its client. The index on
-- user_grants finds dynamic clients nobody holds a grant for (they expire unused).
CREATE TABLE client_registrations (
  client_id TEXT PRIMARY KEY REFERENCES clients (client_id) ON DELETE CASCADE,
  source TEXT NOT NULL CHECK (source IN ('dynamic', 'metadata_document')),
  registration_token_hash TEXT,
  metadata JSONB NOT NULL,
  document_expires_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX client_registrations_source ON client_registrations (source, created_at);
CREATE INDEX user_grants_of_client ON user_grants (client_id);

-- A rotated resource API key keeps working until previous_api_key_expires_at (the rotation's grace period), so a
-- resource server can roll over without a window of refused introspection; see docs/security.md (SR-14).
ALTER TABLE resources ADD COLUMN previous_api_key_id TEXT;
ALTER TABLE resources ADD COLUMN previous_api_key_hash TEXT;
ALTER TABLE resources ADD COLUMN previous_api_key_expires_at BIGINT;
CREATE INDEX resources_previous_api_key_id ON resources (previous_api_key_id);

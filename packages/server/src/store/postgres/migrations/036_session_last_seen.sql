-- When a browser session was last used, for its idle timeout (users.sessionIdleTimeoutSeconds; issue 10,
-- finding 16). Sessions open before this count as used when they were created.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;

-- Revocation events (issue 11 item 3, second half): what a revocation made invalid (token ids, grant ids, or a
-- party's `iat` cutoff), appended after the revocation's own write, so that every instance on this database can
-- stream it to subscribed resource servers (GET /revocation-events) and resume after a Last-Event-ID. A row is
-- kept until the last token it names would have expired anyway (expires_at), then purged.
CREATE TABLE revocation_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  payload TEXT NOT NULL
) STRICT;
CREATE INDEX revocation_events_expires_at ON revocation_events (expires_at);

-- Single-use action tokens (issue 12 item 4): the first use of a token carrying an mcp_tool authorization detail,
-- recorded by the MCP server through POST /action-uses. The primary key makes the use exactly-once across
-- instances; rows go once the token has expired.
CREATE TABLE action_token_uses (
  jti TEXT PRIMARY KEY,
  resource TEXT NOT NULL,
  client_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  tool TEXT NOT NULL,
  arguments_sha256 TEXT NOT NULL,
  used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX action_token_uses_expiry ON action_token_uses (expires_at);

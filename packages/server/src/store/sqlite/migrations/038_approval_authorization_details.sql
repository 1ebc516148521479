-- The RFC 9396 authorization_details an approval request asks for (one mcp_tool call). A table of its own because
-- approval_requests comes from a later-numbered migration (061), which a fresh database applies after this one.
CREATE TABLE approval_authorization_details (
  approval_id TEXT PRIMARY KEY,
  details TEXT NOT NULL
) STRICT;

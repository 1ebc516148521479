-- Per-action approvals (issue 12 item 4): a resource's tools that take a per-action approval (RFC 9396
-- authorization_details of type mcp_tool), with the risk approvers see.
CREATE TABLE tool_policies (
  resource_id TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
  tool TEXT NOT NULL,
  per_action_approval INTEGER NOT NULL,
  risk TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (resource_id, tool)
) STRICT;

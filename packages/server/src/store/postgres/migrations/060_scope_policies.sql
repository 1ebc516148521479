-- Scope policies (issue 12 item 1). The current policy of a scope lives on it, in resources.scopes (read with the
-- resource, so deciding costs no extra query); every edit keeps its version here, for the record.
CREATE TABLE scope_policy_versions (
  resource_id TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
  scope TEXT NOT NULL,
  version BIGINT NOT NULL,
  risk TEXT NOT NULL,
  policy JSONB NOT NULL,                 -- {kind, role?, conditions?, version}
  changed_by TEXT NOT NULL,
  changed_at BIGINT NOT NULL,
  PRIMARY KEY (resource_id, scope, version)
);

-- Roles a scope policy may require (role_required) and approvers hold: a JSON array of names.
ALTER TABLE users ADD COLUMN roles JSONB NOT NULL DEFAULT '[]';

-- Delegation-chain policies (issue 11 item 1): per registered resource (by its URI: how deep a chain its tokens may
-- carry, whether a person must be at the root, which actors may appear) and per agent (to whom it may pass a token
-- on). Checked when a token exchange mints; the dry-run admin endpoint asks the same check.
CREATE TABLE delegation_policies (
  owner_kind TEXT NOT NULL CHECK (owner_kind IN ('resource', 'agent')),
  owner_id TEXT NOT NULL,
  policy JSONB NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (owner_kind, owner_id)
);

-- Token lineage (issue 10 SR-14, issue 11 item 3): every token derived by exchange from another token we issued
-- names its parents (the subject token and the actor token), so revoking any token revokes all its descendants
-- (revoked_tokens gains their jtis). A row lives as long as its child token (expires_at = the child's exp, never
-- beyond a parent's). Tokens with no parent (client_credentials, code, refresh) write nothing here.
CREATE TABLE token_lineage (
  parent_jti TEXT NOT NULL,
  child_jti TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (parent_jti, child_jti)
) STRICT, WITHOUT ROWID;
CREATE INDEX token_lineage_expires_at ON token_lineage (expires_at);

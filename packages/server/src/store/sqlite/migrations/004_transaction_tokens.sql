-- Transaction Tokens (issue 11 item 5, draft-ietf-oauth-transaction-tokens): which workloads may request them
-- (an agent or a resource server; off by default), and one row per issued Txn-Token: its transaction, the claims of
-- the access token the transaction started from (a JWT payload without its signature, not a credential) and the
-- workloads that requested it (the original requester first, then each replacement's), so that every use re-checks
-- the whole chain behind it. A row lives as long as its Txn-Token.
ALTER TABLE clients ADD COLUMN txn_tokens_allowed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN txn_tokens_allowed INTEGER NOT NULL DEFAULT 0;
CREATE TABLE transaction_tokens (
  jti TEXT PRIMARY KEY,
  txn TEXT NOT NULL,
  root_claims TEXT NOT NULL,
  workloads TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX transaction_tokens_expires_at ON transaction_tokens (expires_at);

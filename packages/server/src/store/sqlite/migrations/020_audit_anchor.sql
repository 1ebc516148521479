-- The audit chain's anchor: the head as the last append committed it, with a MAC under the audit key (derived
-- from the KEK, never stored here). Kept apart from audit_log so that deleting rows there cannot move it; see
-- docs/security.md (SR-07). Rows already in audit_log stay chained with plain SHA-256 and are reported as unkeyed;
-- the first append by a server or CLI that holds the key adopts this anchor and MACs it.
CREATE TABLE audit_anchor (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  keyed_from_seq INTEGER NOT NULL,
  mac TEXT
) STRICT;

INSERT INTO audit_anchor (id, seq, hash, keyed_from_seq, mac)
SELECT 1, COALESCE(MAX(seq), 0),
       COALESCE((SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), '0000000000000000000000000000000000000000000000000000000000000000'),
       COALESCE(MAX(seq), 0) + 1, NULL
FROM audit_log;

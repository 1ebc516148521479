-- Where audit retention cut the chain (issue 13, item 4): rows up to seq were deleted, hash is row seq's link, and
-- mac (under the audit key, like the anchor's) vouches for both, so verification resumes there. One row, moved
-- only forwards.
CREATE TABLE audit_checkpoint (
  id SMALLINT PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  mac TEXT NOT NULL
);

-- CIBA (OpenID CIBA Core 1.0, issue 12 item 3): a backchannel authentication request is an approval request the
-- client polls for with its auth_req_id (stored as SHA-256 only), at the interval the server set.
ALTER TABLE approval_requests ADD COLUMN auth_req_hash TEXT;
ALTER TABLE approval_requests ADD COLUMN poll_interval BIGINT;
ALTER TABLE approval_requests ADD COLUMN last_polled_at BIGINT;
CREATE UNIQUE INDEX approval_requests_auth_req ON approval_requests (auth_req_hash);

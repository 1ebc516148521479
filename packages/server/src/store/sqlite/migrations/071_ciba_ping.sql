-- CIBA ping mode (OpenID CIBA Core 1.0 §10.2, issue 12 item 3): a client registered for `ping` names the endpoint
-- the server notifies once its request is decided. The notification (endpoint, auth_req_id and the client's bearer
-- client_notification_token) is kept encrypted under a key derived from the KEK, since the server must send it
-- back; ping_status is 'waiting' until the decision, which makes it 'pending' in the same UPDATE, then
-- 'delivered' or 'failed' after retries (the delivery log is the row's attempts and last result).
ALTER TABLE clients ADD COLUMN backchannel_token_delivery_mode TEXT;
ALTER TABLE clients ADD COLUMN backchannel_client_notification_endpoint TEXT;
ALTER TABLE approval_requests ADD COLUMN ping_sealed TEXT;
ALTER TABLE approval_requests ADD COLUMN ping_status TEXT;
ALTER TABLE approval_requests ADD COLUMN ping_attempts INTEGER;
ALTER TABLE approval_requests ADD COLUMN ping_next_attempt_at INTEGER;
ALTER TABLE approval_requests ADD COLUMN ping_last_result TEXT;
CREATE INDEX approval_requests_ping_due ON approval_requests (ping_status, ping_next_attempt_at);

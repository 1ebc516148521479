-- RFC 9449 §5.2 client metadata `dpop_bound_access_tokens` (issue 11 item 4, DP-19): such a client's token requests
-- without a DPoP proof are refused.
ALTER TABLE clients ADD COLUMN dpop_bound_access_tokens INTEGER NOT NULL DEFAULT 0;

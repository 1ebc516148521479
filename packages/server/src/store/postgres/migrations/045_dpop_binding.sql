-- DPoP (RFC 9449, issue 11 item 4): the key thumbprint an authorization request named (`dpop_jkt`, §10), carried
-- from the pending request to the code, and the key a public client's refresh tokens are bound to (§5).
ALTER TABLE pending_authorizations ADD COLUMN dpop_jkt TEXT;
ALTER TABLE authorization_codes ADD COLUMN dpop_jkt TEXT;
ALTER TABLE refresh_tokens ADD COLUMN dpop_jkt TEXT;

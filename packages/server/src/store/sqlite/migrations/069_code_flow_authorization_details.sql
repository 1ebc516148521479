-- RFC 9396 authorization_details in the authorization code flow (one mcp_tool call, asked for in a pushed
-- authorization request): kept with the request while the user decides, then with the code it yields.
ALTER TABLE pending_authorizations ADD COLUMN authorization_details TEXT;
ALTER TABLE authorization_codes ADD COLUMN authorization_details TEXT;

-- Exchange for resource servers and gateways (issue 11 item 2): the downstream resources a resource server may
-- exchange a token for its own audience into (RFC 8693), authenticated by its API key. Empty: none.
ALTER TABLE resources ADD COLUMN downstream_resources JSONB NOT NULL DEFAULT '[]';

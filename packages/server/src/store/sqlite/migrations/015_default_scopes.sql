-- What a request without `scope` gets (issue 9, item 3): a client's registered default scopes (as if it had sent
-- them), else the default scopes of the resource it gets a token for. Empty: no defaults (the resource's every
-- scope the client may hold).
ALTER TABLE clients ADD COLUMN default_scopes TEXT NOT NULL DEFAULT '[]';
ALTER TABLE resources ADD COLUMN default_scopes TEXT NOT NULL DEFAULT '[]';

-- Revocation events scoped per resource (issue 11): each lineage row records its child token's audiences (a JSON
-- array of its `aud` values), so that a revocation event can name the audiences of every token it revokes and be
-- delivered only to those resources. NULL for rows written before: an event naming such a token goes to every
-- subscriber, as all events did.
ALTER TABLE token_lineage ADD COLUMN audiences TEXT;

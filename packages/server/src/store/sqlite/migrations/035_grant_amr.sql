-- How the user authenticated for a grant (RFC 8176 `amr` values: pwd, hwk + user, fed), for its ID tokens
-- (issue 10, finding 16). Grants made before this have none recorded.
ALTER TABLE user_grants ADD COLUMN amr TEXT NOT NULL DEFAULT '[]';

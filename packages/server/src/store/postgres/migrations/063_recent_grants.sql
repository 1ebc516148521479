-- An authorization request reads this user's newest live grants to this client (incremental authorization), newest
-- first: an index that ends in created_at answers it without reading every grant the user ever made (issue 13).
CREATE INDEX user_grants_recent ON user_grants (user_id, client_id, created_at);
DROP INDEX user_grants_user;

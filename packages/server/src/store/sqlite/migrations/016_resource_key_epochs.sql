-- Since when each resource API key has been the one in use (issue 11: a resource server's tokens end with its key).
-- A token a resource server obtained by downstream exchange before api_key_since was obtained with a replaced key:
-- it lives while that key's grace period lasts (previous_api_key_since onwards) and dies with it. Existing keys
-- count from the resource's creation (016 runs before 021 on a new database: it names no column of 021).
ALTER TABLE resources ADD COLUMN api_key_since INTEGER;
ALTER TABLE resources ADD COLUMN previous_api_key_since INTEGER;
UPDATE resources SET api_key_since = created_at;

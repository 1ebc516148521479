-- SR-08: a rotated-in key is published ahead of use. activates_at is when the key starts signing (NULL: from its
-- creation, as every key before this migration did); until then every instance only publishes it in its JWKS, and
-- the key it replaces keeps signing until that instant (its retired_at).
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT;

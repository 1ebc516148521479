-- Issue 14 item 5: a signing key may be held by an external signer (a KMS or HSM). Its private half never reaches
-- the database: external_key_ref is the signer's own name for the key, and private_key_encrypted is then empty.
-- NULL: a key of the local key store, encrypted under the KEK as before.
ALTER TABLE signing_keys ADD COLUMN external_key_ref TEXT;

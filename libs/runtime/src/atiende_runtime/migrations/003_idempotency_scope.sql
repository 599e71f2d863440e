-- Idempotency-Keys belong to a caller (the token's subject; "anonymous" with authentication off)
-- and expire: two clients choosing the same key get their own answers, and stored responses
-- (which may hold personal data) do not stay forever.
ALTER TABLE {schema}.idempotency_keys ADD COLUMN IF NOT EXISTS caller text;
ALTER TABLE {schema}.idempotency_keys ADD COLUMN IF NOT EXISTS expires_at timestamptz;
-- keys stored before this migration were claimed with authentication off or unscoped
UPDATE {schema}.idempotency_keys SET caller = 'anonymous' WHERE caller IS NULL;
UPDATE {schema}.idempotency_keys SET expires_at = created_at + interval '24 hours'
    WHERE expires_at IS NULL;
ALTER TABLE {schema}.idempotency_keys ALTER COLUMN caller SET NOT NULL;
ALTER TABLE {schema}.idempotency_keys ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE {schema}.idempotency_keys DROP CONSTRAINT IF EXISTS idempotency_keys_pkey;
ALTER TABLE {schema}.idempotency_keys ADD CONSTRAINT idempotency_keys_pkey
    PRIMARY KEY (caller, scope, key);
CREATE INDEX IF NOT EXISTS idempotency_keys_expiry ON {schema}.idempotency_keys (expires_at);

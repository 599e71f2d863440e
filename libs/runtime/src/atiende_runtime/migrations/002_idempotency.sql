-- Idempotency-Key: a client retrying a create gets the first answer, never a second effect.
CREATE TABLE IF NOT EXISTS {schema}.idempotency_keys (
    scope         text        NOT NULL,   -- method and route, e.g. "POST /contacts"
    key           text        NOT NULL,
    request_hash  text        NOT NULL,
    status_code   int,                    -- null while the first request is still in flight
    response      jsonb,
    headers       jsonb       NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);

-- Runtime tables every service has in its own schema: the transactional outbox and the inbox.
-- {schema} is replaced by the service's schema name.

CREATE TABLE IF NOT EXISTS {schema}.outbox (
    position      bigserial PRIMARY KEY,          -- publish order
    event_id      uuid        NOT NULL UNIQUE,
    type          text        NOT NULL,
    routing_key   text        NOT NULL,
    subject       text,                           -- case id: events of one subject stay in order
    source        text        NOT NULL,
    occurred_at   timestamptz NOT NULL,
    dataschema    text        NOT NULL,
    dataversion   int         NOT NULL,
    data          jsonb       NOT NULL,
    trace_headers jsonb       NOT NULL DEFAULT '{}',  -- W3C trace context of the writing transaction
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz,
    attempts      int         NOT NULL DEFAULT 0,
    last_error    text
);
CREATE INDEX IF NOT EXISTS outbox_pending ON {schema}.outbox (position) WHERE published_at IS NULL;

CREATE OR REPLACE FUNCTION {schema}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{schema}_outbox', '');
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox;
CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify();

CREATE TABLE IF NOT EXISTS {schema}.inbox (
    consumer    text        NOT NULL,
    event_id    uuid        NOT NULL,
    event_type  text        NOT NULL,
    subject     text,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

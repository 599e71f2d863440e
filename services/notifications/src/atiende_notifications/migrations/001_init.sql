-- Notifications' own copy of whom each case's emails go to (learnt from case.opened).
CREATE TABLE recipients (
    case_id         uuid PRIMARY KEY,
    case_number     text        NOT NULL,
    customer_name   text        NOT NULL,
    customer_email  text        NOT NULL,
    language        text        NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Every email to send, a durable row: written by a consumer in its inbox transaction, sent by the
-- dispatcher. The idempotency key makes one email of a template per case or invitation, and the
-- id (derived from the key) is the email's Message-ID, so a receiver can drop a resend.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    idempotency_key  text        NOT NULL UNIQUE,
    case_id          uuid,
    case_number      text,
    template         text        NOT NULL,
    channel          text        NOT NULL DEFAULT 'email' CHECK (channel IN ('email')),
    recipient        text        NOT NULL,
    recipient_name   text,
    subject          text        NOT NULL,
    body_text        text        NOT NULL,
    body_html        text,
    status           text        NOT NULL DEFAULT 'pending'
                                 CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         int         NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text,
    trace_headers    jsonb       NOT NULL DEFAULT '{}',  -- W3C trace context of the writing handler
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_case ON deliveries (case_id, created_at);
CREATE INDEX deliveries_status ON deliveries (status, created_at);

-- Wake the dispatcher as soon as a delivery commits (it also polls, in case a NOTIFY is missed).
CREATE FUNCTION deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{schema}_deliveries', '');
    RETURN NULL;
END $$;

CREATE TRIGGER deliveries_notify AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_notify();

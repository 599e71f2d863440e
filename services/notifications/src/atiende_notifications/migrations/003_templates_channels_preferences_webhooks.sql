-- Issue 13: templates as data, SMS and webhook deliveries, preferences and quiet hours,
-- suppressed/deferred messages with their reason, the delivery log, webhook endpoints.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('email', 'sms', 'webhook'));
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'sent', 'failed', 'suppressed'));
ALTER TABLE deliveries
    ADD COLUMN customer_id  uuid,
    ADD COLUMN language     text,
    ADD COLUMN register     text,
    ADD COLUMN context      jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN reason       text,
    ADD COLUMN endpoint_id  uuid,
    ADD COLUMN thread       text;
CREATE INDEX deliveries_customer ON deliveries (customer_id);
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at);

ALTER TABLE recipients
    ADD COLUMN customer_id    uuid,
    ADD COLUMN formality      text NOT NULL DEFAULT 'formal',
    ADD COLUMN customer_phone text,
    ADD COLUMN region         text;
CREATE INDEX recipients_customer ON recipients (customer_id);

-- Every attempt of every delivery: the delivery log (request, response status, timing).
CREATE TABLE delivery_attempts (
    delivery_id  uuid        NOT NULL REFERENCES deliveries (id),
    attempt      int         NOT NULL,
    attempted_at timestamptz NOT NULL,
    duration_ms  int         NOT NULL,
    status_code  int,
    error        text,
    request      jsonb       NOT NULL DEFAULT '{}',
    PRIMARY KEY (delivery_id, attempt, attempted_at)
);

-- Administrators' templates, every version kept; the highest active version of a key serves.
CREATE TABLE templates (
    template   text        NOT NULL,
    channel    text        NOT NULL,
    language   text        NOT NULL,
    register   text        NOT NULL DEFAULT '',  -- '' = the language's default
    version    int         NOT NULL,
    subject    text,
    body_text  text        NOT NULL,
    body_html  text,
    active     boolean     NOT NULL DEFAULT true,
    outdated   boolean     NOT NULL DEFAULT false,
    actor      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (template, channel, language, register, version)
);

CREATE TABLE customer_preferences (
    customer_id       uuid PRIMARY KEY,
    preferred_channel text,
    consent_surveys   boolean,
    consent_marketing boolean,
    opted_out         text[] NOT NULL DEFAULT '{}',
    undeliverable     text[] NOT NULL DEFAULT '{}',
    time_zone         text,
    quiet_start       time,
    quiet_end         time,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff (
    agent_id   text PRIMARY KEY,
    name       text,
    email      text,
    phone      text,
    channels   text[] NOT NULL DEFAULT '{email}',
    active     boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY,
    url             text        NOT NULL,
    description     text,
    event_types     text[]      NOT NULL DEFAULT '{}',
    secrets         jsonb       NOT NULL,
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_reason text,
    created_at      timestamptz NOT NULL
);

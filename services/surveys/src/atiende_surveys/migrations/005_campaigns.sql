-- Periodic relationship surveys of a segment. A campaign's invitations are ordinary scheduled
-- rows (the same durable timers and budget) that must be sent before the window closes.
ALTER TABLE cases ADD COLUMN tier text;

CREATE TABLE campaigns (
    id               uuid PRIMARY KEY,
    questionnaire_id text        NOT NULL,
    segment          jsonb       NOT NULL,
    send_from        timestamptz NOT NULL,
    send_until       timestamptz NOT NULL CHECK (send_until > send_from),
    created_at       timestamptz NOT NULL,
    scheduled        integer     NOT NULL DEFAULT 0
);

ALTER TABLE scheduled
    ADD COLUMN campaign_id uuid REFERENCES campaigns (id),
    ADD COLUMN not_after   timestamptz;

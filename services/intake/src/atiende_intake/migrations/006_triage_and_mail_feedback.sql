-- Triage: a case can be reclassified (its version is the ETag agents send back), split (the new
-- case remembers where it came from) and merged (the absorbed case is closed and names its
-- survivor). Contacts may join by a thread header or an agent's choice.
ALTER TABLE cases
    ADD COLUMN version         int  NOT NULL DEFAULT 1,
    ADD COLUMN merged_into     uuid REFERENCES cases (id),
    ADD COLUMN related_case_id uuid REFERENCES cases (id);
ALTER TABLE contacts DROP CONSTRAINT IF EXISTS contacts_link_reason_check;
ALTER TABLE contacts ADD CONSTRAINT contacts_link_reason_check
    CHECK (link_reason IN ('case_number', 'same_problem', 'thread_header', 'agent'));
-- a reply names the customer's earlier email by its Message-ID: find its contact fast
CREATE INDEX contacts_email_refs ON contacts (external_ref) WHERE channel = 'email';

-- How the customer prefers to be written to (travels on case.opened and customer.profile_changed).
ALTER TABLE customers ADD COLUMN preferred_channel text
    CHECK (preferred_channel IN ('email', 'sms', 'webhook'));

-- Mail that reached us but is no customer's words: auto-replies and bounces (feedback on the
-- email they answer or report) and messages we could not read. The raw message is kept for an
-- operator; the same message twice is kept once.
CREATE TABLE email_feedback (
    id           uuid        PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('auto_reply', 'bounce', 'unreadable')),
    reason       text        NOT NULL,
    message_id   text        NOT NULL,
    sender       text,
    subject      text,
    delivery_id  uuid,        -- the email of ours it answers or reports, when known
    case_id      uuid,
    details      jsonb       NOT NULL DEFAULT '{}',
    raw          bytea       NOT NULL,
    received_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX email_feedback_once ON email_feedback (kind, message_id);
CREATE INDEX email_feedback_by_received ON email_feedback (received_at DESC, id DESC);

-- What other services published about a case, kept for the customer's history (one row per
-- event: a redelivered event is kept once).
CREATE TABLE case_facts (
    event_id     uuid        PRIMARY KEY,
    case_id      uuid        NOT NULL,
    event_type   text        NOT NULL,
    summary      text        NOT NULL,
    details      jsonb       NOT NULL DEFAULT '{}',
    at           timestamptz NOT NULL
);
CREATE INDEX case_facts_by_case ON case_facts (case_id, at DESC, event_id DESC);

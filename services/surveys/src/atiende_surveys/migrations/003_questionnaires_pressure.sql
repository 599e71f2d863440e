-- Questionnaires, the contact-pressure budget, consent and opt-outs, delayed invitations.

-- Managed questionnaires: every stored version; the newest wins over the stock one (catalogue.py).
CREATE TABLE questionnaires (
    id          text        NOT NULL,
    version     integer     NOT NULL CHECK (version >= 1),
    definition  jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, version)
);

ALTER TABLE invitations DROP CONSTRAINT invitations_status_check;
ALTER TABLE invitations ADD CONSTRAINT invitations_status_check
    CHECK (status IN ('pending', 'answered', 'expired', 'declined'));
DROP INDEX invitations_one_pending_per_case;
ALTER TABLE invitations
    ADD COLUMN customer_id           uuid,
    ADD COLUMN questionnaire_id      text    NOT NULL DEFAULT 'csat',
    ADD COLUMN questionnaire_version integer NOT NULL DEFAULT 1,
    ADD COLUMN kind                  text    NOT NULL DEFAULT 'csat',
    ADD COLUMN language              text    NOT NULL DEFAULT 'es',
    ADD COLUMN formality             text,
    ADD COLUMN trigger               text    NOT NULL DEFAULT 'resolution',
    ADD COLUMN agent_id              text,
    ADD COLUMN team                  text,
    ADD COLUMN reminders             integer NOT NULL DEFAULT 0,
    ADD COLUMN draft                 jsonb   NOT NULL DEFAULT '{}';
-- At most one survey per case, however often it is resolved or closed.
CREATE UNIQUE INDEX invitations_once_per_case ON invitations (case_id)
    WHERE trigger IN ('resolution', 'closure');
CREATE INDEX invitations_pending ON invitations (expires_at) WHERE status = 'pending';

ALTER TABLE responses ALTER COLUMN satisfaction DROP NOT NULL;
ALTER TABLE responses
    ADD COLUMN answers jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN scores  jsonb NOT NULL DEFAULT '{}';

ALTER TABLE cases
    ADD COLUMN formality text,
    ADD COLUMN type      text,
    ADD COLUMN region    text,
    ADD COLUMN open      boolean NOT NULL DEFAULT true,
    ADD COLUMN agent_id  text,
    ADD COLUMN team      text,
    ADD COLUMN test      boolean NOT NULL DEFAULT false;

CREATE TABLE customers (
    customer_id      uuid PRIMARY KEY,
    consent_surveys  boolean,
    language         text,
    formality        text,
    updated_at       timestamptz NOT NULL
);

CREATE TABLE opt_outs (
    customer_id  uuid        NOT NULL,
    scope        text        NOT NULL,  -- 'all' or a questionnaire kind
    opted_out_at timestamptz NOT NULL,
    PRIMARY KEY (customer_id, scope)
);

-- Every survey message a customer got (invitations and reminders): the budget's ledger.
CREATE TABLE contacts (
    customer_id    uuid        NOT NULL,
    invitation_id  uuid        NOT NULL,
    at             timestamptz NOT NULL,
    reminder       boolean     NOT NULL
);
CREATE INDEX contacts_by_customer ON contacts (customer_id, at);

-- Every invitation NOT sent, and why: management sees what was not asked.
CREATE TABLE suppressions (
    id               uuid PRIMARY KEY,
    customer_id      uuid,
    case_id          uuid,
    questionnaire_id text,
    trigger          text        NOT NULL,
    reason           text        NOT NULL,
    detail           text,
    suppressed_at    timestamptz NOT NULL
);
CREATE INDEX suppressions_by_customer ON suppressions (customer_id, suppressed_at);

-- Invitations due later (the delay, the customer's daytime): durable timers claimed with
-- FOR UPDATE SKIP LOCKED, so a restart or a second replica neither loses nor doubles one.
CREATE TABLE scheduled (
    id               uuid PRIMARY KEY,
    case_id          uuid        NOT NULL,
    case_number      text        NOT NULL,
    customer_id      uuid,
    trigger          text        NOT NULL,
    questionnaire_id text        NOT NULL,
    agent_id         text,
    team             text,
    due_at           timestamptz NOT NULL,
    done_at          timestamptz
);
CREATE INDEX scheduled_due ON scheduled (due_at) WHERE done_at IS NULL;

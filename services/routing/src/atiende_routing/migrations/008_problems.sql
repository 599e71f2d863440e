-- Settle and learn, part two: the root cause decided at resolution, problems detected from many
-- similar cases (managed thresholds), procedures (versioned, per motive and channel, per
-- language) and policies (the managed lists a root cause may blame), and procedure reviews.

ALTER TABLE cases
    ADD COLUMN root_cause           text CHECK (root_cause IN ('isolated_incident',
        'procedure_design_fault', 'policy_hurts_customers', 'needs_clearer_information')),
    ADD COLUMN root_cause_procedure text,
    ADD COLUMN root_cause_policy    text,
    ADD COLUMN root_cause_note      text;
-- detection counts resolved cases of one motive and root cause within a window
CREATE INDEX cases_root_cause ON cases (motive, root_cause, resolved_at) WHERE root_cause IS NOT NULL;
CREATE INDEX cases_root_cause_procedure ON cases (root_cause_procedure, resolved_at)
    WHERE root_cause_procedure IS NOT NULL;
CREATE INDEX cases_root_cause_policy ON cases (root_cause_policy, resolved_at)
    WHERE root_cause_policy IS NOT NULL;

CREATE TABLE problem_thresholds (
    id            text PRIMARY KEY,
    name          text        NOT NULL,
    motive        text        NOT NULL,
    root_cause    text        NOT NULL,
    touchpoint    text,
    product       text,
    region        text,
    trigger       text        NOT NULL CHECK (trigger IN ('count', 'baseline')),
    cases         int         NOT NULL CHECK (cases >= 1),
    window_hours  double precision NOT NULL CHECK (window_hours > 0),
    factor        double precision CHECK (factor > 0),
    owner         text,
    active        boolean     NOT NULL DEFAULT true,
    changed_at    timestamptz NOT NULL DEFAULT now(),
    actor         text
);
CREATE INDEX problem_thresholds_match ON problem_thresholds (motive, root_cause) WHERE active;

CREATE SEQUENCE problem_numbers;

CREATE TABLE problems (
    id              uuid PRIMARY KEY,
    number          text        NOT NULL UNIQUE,
    threshold_id    text        NOT NULL REFERENCES problem_thresholds (id),
    title           text        NOT NULL,
    motive          text        NOT NULL,
    root_cause      text        NOT NULL,
    touchpoint      text,
    product         text,
    region          text,
    status          text        NOT NULL CHECK (status IN ('open', 'known_error', 'resolved')),
    owner           text,
    workaround      text,
    known_error_at  timestamptz,
    resolution      text,
    resolved_at     timestamptz,
    detected_at     timestamptz NOT NULL,
    version         int         NOT NULL DEFAULT 1
);
-- one problem at a time per threshold: the backstop behind the advisory lock detection takes
CREATE UNIQUE INDEX problems_one_unresolved_per_threshold ON problems (threshold_id)
    WHERE status <> 'resolved';
CREATE INDEX problems_status ON problems (status, detected_at);
-- a new case joins the unresolved problems of its motive
CREATE INDEX problems_unresolved_motive ON problems (motive) WHERE status <> 'resolved';

CREATE TABLE problem_cases (
    problem_id  uuid        NOT NULL REFERENCES problems (id),
    case_id     uuid        NOT NULL REFERENCES cases (id),
    reason      text        NOT NULL CHECK (reason IN ('detected', 'automatic', 'manual')),
    linked_at   timestamptz NOT NULL,
    actor       text,
    PRIMARY KEY (problem_id, case_id)
);
CREATE INDEX problem_cases_case ON problem_cases (case_id);

CREATE TABLE policies (
    code         text PRIMARY KEY,
    title        text        NOT NULL,
    description  text,
    active       boolean     NOT NULL DEFAULT true,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    actor        text
);

-- every version of every procedure; the latest version of a code is the one that counts
CREATE TABLE procedures (
    code        text        NOT NULL,
    version     int         NOT NULL,
    motive      text        NOT NULL,
    channel     text,
    texts       jsonb       NOT NULL,   -- {language: {title, steps: [...]}}
    active      boolean     NOT NULL,
    changed_at  timestamptz NOT NULL,
    actor       text,
    PRIMARY KEY (code, version)
);
CREATE INDEX procedures_motive ON procedures (motive, channel);

-- the one managed review threshold (a single row)
CREATE TABLE procedure_review_threshold (
    singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    cases         int              NOT NULL CHECK (cases >= 1),
    window_hours  double precision NOT NULL CHECK (window_hours > 0),
    changed_at    timestamptz      NOT NULL DEFAULT now(),
    actor         text
);
INSERT INTO procedure_review_threshold (cases, window_hours) VALUES (3, 168);

CREATE TABLE procedure_reviews (
    id            uuid PRIMARY KEY,
    subject_kind  text        NOT NULL CHECK (subject_kind IN ('procedure', 'policy')),
    code          text        NOT NULL,
    case_ids      uuid[]      NOT NULL,
    requested_at  timestamptz NOT NULL
);
CREATE INDEX procedure_reviews_subject ON procedure_reviews (subject_kind, code, requested_at);

-- Compensations: the catalogue of courtesies (every version kept, deactivated never deleted),
-- the approval limits per rank and currency, the per-customer caps, and the approval requests
-- for grants above the asker's limit. What is granted goes to compensation_ledger (006).

CREATE TABLE compensation_catalogue (
    code         text        NOT NULL,
    version      integer     NOT NULL CHECK (version >= 1),
    kind         text        NOT NULL,
    descriptions jsonb       NOT NULL,          -- {language: text}
    value_rule   text        NOT NULL CHECK (value_rule IN ('fixed', 'percentage', 'up_to')),
    amount       numeric(14, 2),                -- fixed: the amount
    percent      numeric(5, 2),                 -- percentage: of the order value
    maximum      numeric(14, 2),                -- up_to: the ceiling; percentage: optional cap
    currency     char(3)     NOT NULL,
    valid_from   timestamptz,
    valid_until  timestamptz,
    case_types   text[]      NOT NULL DEFAULT '{}',   -- empty: every type
    motives      text[]      NOT NULL DEFAULT '{}',   -- empty: every motive
    cost_centre  text,
    active       boolean     NOT NULL DEFAULT true,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    actor        text,
    PRIMARY KEY (code, version)
);

-- What a rank may grant at once, per currency (no row: nothing at once, except a manager, who
-- has no limit unless one is configured).
CREATE TABLE compensation_limits (
    rank       text           NOT NULL CHECK (rank IN ('agent', 'senior', 'supervisor', 'manager')),
    currency   char(3)        NOT NULL,
    max_amount numeric(14, 2) NOT NULL CHECK (max_amount >= 0),
    changed_at timestamptz    NOT NULL DEFAULT now(),
    actor      text,
    PRIMARY KEY (rank, currency)
);

-- Per-customer caps over a rolling period: at most max_count grants and/or max_amount (net of
-- reversals) in the last period_length days or months.
CREATE TABLE compensation_caps (
    id            text        PRIMARY KEY,
    currency      char(3),                      -- needed for an amount cap; NULL: any currency
    max_count     integer     CHECK (max_count >= 1),
    max_amount    numeric(14, 2) CHECK (max_amount > 0),
    period_unit   text        NOT NULL CHECK (period_unit IN ('days', 'months')),
    period_length integer     NOT NULL CHECK (period_length >= 1),
    active        boolean     NOT NULL DEFAULT true,
    changed_at    timestamptz NOT NULL DEFAULT now(),
    actor         text,
    CHECK (max_count IS NOT NULL OR max_amount IS NOT NULL),
    CHECK (max_amount IS NULL OR currency IS NOT NULL)
);

CREATE TABLE compensation_requests (
    id                uuid           PRIMARY KEY,
    case_id           uuid           NOT NULL,
    case_number       text           NOT NULL,
    customer_id       uuid,
    team              text,
    agent_id          text,
    catalogue_code    text           NOT NULL,
    catalogue_version integer        NOT NULL,
    kind              text           NOT NULL,
    amount            numeric(14, 2) NOT NULL CHECK (amount > 0),
    currency          char(3)        NOT NULL,
    cost_centre       text,
    reason            text,
    requested_by      text,
    requested_rank    text           NOT NULL,
    approver_rank     text           NOT NULL,
    requested_at      timestamptz    NOT NULL,
    status            text           NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by        text,
    decided_rank      text,
    decision_reason   text,
    decided_at        timestamptz,
    grant_id          uuid,
    FOREIGN KEY (catalogue_code, catalogue_version)
        REFERENCES compensation_catalogue (code, version)
);
CREATE INDEX compensation_requests_pending
    ON compensation_requests (approver_rank, requested_at) WHERE status = 'pending';
CREATE INDEX compensation_requests_case ON compensation_requests (case_id);


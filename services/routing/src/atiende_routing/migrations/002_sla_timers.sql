-- SLA policies (versioned), the managed pause reasons, the per-case clocks, and the ONE durable
-- timers table every deadline of routing uses (SLA warnings and breaches, commitments…).

CREATE TABLE sla_policies (
    id                  text        NOT NULL,
    version             int         NOT NULL,
    name                text        NOT NULL,
    business_hours      boolean     NOT NULL,
    targets             jsonb       NOT NULL,   -- {priority: {clock: seconds}}
    pauses              jsonb       NOT NULL,   -- {clock: [status, …]}
    warn_at_percent     int[]       NOT NULL,
    warn_minutes_before int[]       NOT NULL,
    active              boolean     NOT NULL DEFAULT true,
    changed_at          timestamptz NOT NULL DEFAULT now(),
    actor               text,
    PRIMARY KEY (id, version)
);

-- The default policy, so routing works out of the box (business hours; warnings at 75 % and
-- 15 minutes before). Targets in seconds.
INSERT INTO sla_policies (id, version, name, business_hours, targets, pauses,
                          warn_at_percent, warn_minutes_before)
VALUES ('default', 1, 'Default', true,
        '{"urgent": {"first_response": 3600, "next_update": 7200, "resolution": 28800},
          "high":   {"first_response": 14400, "next_update": 28800, "resolution": 86400},
          "normal": {"first_response": 28800, "next_update": 57600, "resolution": 144000},
          "low":    {"first_response": 57600, "next_update": 86400, "resolution": 288000}}',
        '{"first_response": [],
          "next_update": ["waiting_on_customer", "waiting_on_third_party"],
          "resolution": ["waiting_on_customer", "waiting_on_third_party"]}',
        '{75}', '{15}');

CREATE TABLE sla_pause_reasons (
    code     text PRIMARY KEY,
    label    text NOT NULL,
    position int  NOT NULL
);
INSERT INTO sla_pause_reasons (code, label, position) VALUES
    ('customer_information', 'Waiting for information from the customer', 1),
    ('customer_confirmation', 'Waiting for the customer to confirm a solution', 2),
    ('customer_unreachable', 'The customer cannot be reached', 3),
    ('third_party_supplier', 'Waiting for a supplier or partner', 4),
    ('third_party_internal', 'Waiting for another department', 5);

-- One row per run of a clock (next update runs again at each customer contact, resolution on
-- reopen); the latest cycle is the clock's current state. Elapsed time is computed from the start
-- and the pauses, never stored.
CREATE TABLE sla_clocks (
    case_id         uuid        NOT NULL,
    clock           text        NOT NULL,
    cycle           int         NOT NULL,
    case_number     text        NOT NULL,
    policy_id       text        NOT NULL,
    policy_version  int         NOT NULL,
    priority        text        NOT NULL,
    target_seconds  double precision NOT NULL,
    calendar        jsonb,                      -- the calendar counted (snapshot); null: calendar time
    started_at      timestamptz NOT NULL,
    pauses          jsonb       NOT NULL DEFAULT '[]',  -- [{started_at, ended_at, reason, note, status}]
    met_at          timestamptz,
    breached_at     timestamptz,
    warned          text[]      NOT NULL DEFAULT '{}',
    due_at          timestamptz,                -- derived, kept for queue ordering
    PRIMARY KEY (case_id, clock, cycle)
);
CREATE INDEX sla_clocks_due ON sla_clocks (due_at) WHERE met_at IS NULL;

CREATE TABLE timers (
    id          uuid        PRIMARY KEY,
    kind        text        NOT NULL,
    case_id     uuid        NOT NULL,
    ref         text        NOT NULL,
    due_at      timestamptz NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    fired_at    timestamptz,                    -- set in the transaction that emitted its event
    fired_by    text,                           -- the replica (host:pid) whose worker fired it
    outcome     text,
    attempts    int         NOT NULL DEFAULT 0, -- handler failures so far (each retried later)
    last_error  text
);
-- what the worker claims: only pending rows are indexed, so a million fired ones cost nothing
CREATE INDEX timers_due ON timers (due_at) WHERE fired_at IS NULL;
-- scheduling the same kind and ref of a case again moves the pending deadline
CREATE UNIQUE INDEX timers_pending ON timers (case_id, kind, ref) WHERE fired_at IS NULL;

-- Wake the timer workers as soon as a timer commits (they also poll, and sleep until next_due).
CREATE FUNCTION timers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{schema}_timers', '');
    RETURN NULL;
END $$;

CREATE TRIGGER timers_notify AFTER INSERT OR UPDATE OF due_at ON timers
    FOR EACH STATEMENT EXECUTE FUNCTION timers_notify();

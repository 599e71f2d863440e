-- The organisation cases are routed to: teams, agents, routing rules (versioned), the decisions
-- they took, and who holds which open case (load, queue and sticky assignment read it).

CREATE TABLE teams (
    id                 text PRIMARY KEY,
    name               text        NOT NULL,
    strategy           text        NOT NULL DEFAULT 'round_robin',
    -- the SLA clocks' BusinessCalendar as JSON: {time_zone, weekly: [{weekday, start, end}], holidays: [{date, name}]}
    calendar           jsonb       NOT NULL,
    reopen_window_days int         NOT NULL DEFAULT 14 CHECK (reopen_window_days BETWEEN 0 AND 365),
    -- who to call at each rank above agent: {"senior": ["ana"], "supervisor": [...], ...}
    ladder             jsonb       NOT NULL DEFAULT '{}',
    active             boolean     NOT NULL DEFAULT true,
    version            int         NOT NULL DEFAULT 1,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
    id                   text PRIMARY KEY,
    name                 text        NOT NULL,
    email                text,
    rank                 text        NOT NULL DEFAULT 'agent',
    skills               jsonb       NOT NULL DEFAULT '{}',
    capacity_total       int         NOT NULL CHECK (capacity_total >= 1),
    capacity_per_channel jsonb       NOT NULL DEFAULT '{}',
    availability         text        NOT NULL DEFAULT 'offline',
    ooo_starts           timestamptz,
    ooo_ends             timestamptz,
    substitute_id        text,
    active               boolean     NOT NULL DEFAULT true,
    version              int         NOT NULL DEFAULT 1,
    last_assigned_at     timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agent_teams (
    agent_id text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    team_id  text NOT NULL REFERENCES teams (id),
    position int  NOT NULL DEFAULT 0,
    PRIMARY KEY (agent_id, team_id)
);
CREATE INDEX agent_teams_team ON agent_teams (team_id);

-- A rule's head (its place and state) and every version of its content: a case keeps the
-- version it was routed by, so versions are never updated or deleted.
CREATE TABLE routing_rules (
    id         text PRIMARY KEY,
    position   int         NOT NULL,
    active     boolean     NOT NULL DEFAULT true,
    version    int         NOT NULL DEFAULT 1,
    deleted_at timestamptz
);

CREATE TABLE routing_rule_versions (
    rule_id    text        NOT NULL REFERENCES routing_rules (id),
    version    int         NOT NULL,
    name       text        NOT NULL,
    conditions jsonb       NOT NULL DEFAULT '[]',
    outcome    jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    actor      text,
    PRIMARY KEY (rule_id, version)
);

-- Why each case went where it went (GET /cases/{id}/routing-explanation).
CREATE TABLE routing_decisions (
    id           bigserial PRIMARY KEY,
    case_id      uuid        NOT NULL,
    rule_id      text        NOT NULL,
    rule_version int         NOT NULL,
    explanation  jsonb       NOT NULL,
    decided_at   timestamptz NOT NULL
);
CREATE INDEX routing_decisions_case ON routing_decisions (case_id, id);

-- Who holds which case while it is open: agent_id NULL = waiting in the team's queue.
CREATE TABLE assignments (
    case_id     uuid PRIMARY KEY,
    case_number text        NOT NULL,
    team        text        NOT NULL,
    agent_id    text,
    customer_id uuid,
    channel     text,
    language    text,
    motive      text,
    priority    text        NOT NULL DEFAULT 'normal',
    required    jsonb       NOT NULL DEFAULT '{}',
    rule_id     text,
    rule_version int,
    due_at      timestamptz,
    queued_at   timestamptz NOT NULL,
    assigned_at timestamptz,
    closed_at   timestamptz
);
CREATE INDEX assignments_queue ON assignments (team, due_at, queued_at)
    WHERE agent_id IS NULL AND closed_at IS NULL;
CREATE INDEX assignments_held ON assignments (agent_id) WHERE closed_at IS NULL;
CREATE INDEX assignments_customer ON assignments (customer_id, queued_at);

-- Out of the box routing does what it always did: every case to team "general".
INSERT INTO teams (id, name, strategy, calendar) VALUES (
    'general', 'General', 'round_robin',
    '{"time_zone": "Europe/Madrid", "weekly": [
        {"weekday": 0, "start": "09:00", "end": "18:00"}, {"weekday": 1, "start": "09:00", "end": "18:00"},
        {"weekday": 2, "start": "09:00", "end": "18:00"}, {"weekday": 3, "start": "09:00", "end": "18:00"},
        {"weekday": 4, "start": "09:00", "end": "18:00"}], "holidays": []}'
);
INSERT INTO routing_rules (id, position, active, version) VALUES ('default', 1000000, true, 1);
INSERT INTO routing_rule_versions (rule_id, version, name, conditions, outcome) VALUES (
    'default', 1, 'Every other case', '[]',
    '{"team": "general", "priority": "normal", "policy_id": null, "skills": {}}'
);

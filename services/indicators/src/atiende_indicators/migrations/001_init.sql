-- Indicators' read models, built from every event (see domain.py for what each event adds).

-- What the events told about each case. Any column may still be NULL: events of one case come
-- from different services, so e.g. case.resolved can arrive before case.opened.
CREATE TABLE case_facts (
    case_id       uuid PRIMARY KEY,
    case_number   text,
    type          text,
    channel       text,
    opened_at     timestamptz,
    assigned_at   timestamptz,
    resolved_at   timestamptz,
    satisfaction  smallint CHECK (satisfaction BETWEEN 1 AND 5),
    answered_at   timestamptz
);
-- the median time to resolution is taken over the cases resolved in a range
CREATE INDEX case_facts_resolved_at ON case_facts (resolved_at) WHERE resolved_at IS NOT NULL;

-- One counter per reporting day (UTC) and metric.
CREATE TABLE daily_counts (
    day     date   NOT NULL,
    metric  text   NOT NULL,
    value   bigint NOT NULL,
    PRIMARY KEY (day, metric)
);
-- the daily series reads one metric over a range of days
CREATE INDEX daily_counts_metric_day ON daily_counts (metric, day);

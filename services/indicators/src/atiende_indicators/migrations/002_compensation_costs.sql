-- The cost of customer loyalty: what compensations cost per reporting day (UTC), team, kind and
-- currency, from compensation.granted (plus) and compensation.reversed (minus). '' = no team.
CREATE TABLE compensation_costs (
    day       date           NOT NULL,
    team      text           NOT NULL,
    kind      text           NOT NULL,
    currency  char(3)        NOT NULL,
    granted   numeric(16, 2) NOT NULL DEFAULT 0,
    reversed  numeric(16, 2) NOT NULL DEFAULT 0,   -- positive: what was taken back
    grants    bigint         NOT NULL DEFAULT 0,
    reversals bigint         NOT NULL DEFAULT 0,
    PRIMARY KEY (day, team, kind, currency)
);

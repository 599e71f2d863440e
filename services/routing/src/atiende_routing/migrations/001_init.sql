-- Routing's copy of each case and its lifecycle.
CREATE TABLE cases (
    id           uuid PRIMARY KEY,
    number       text        NOT NULL,
    type         text        NOT NULL,
    status       text        NOT NULL,
    team         text,
    opened_at    timestamptz NOT NULL,
    assigned_at  timestamptz,
    resolved_at  timestamptz,
    resolution   text,
    -- how many times an assignment was made: the reliability tests assert it is exactly 1
    assignments  int         NOT NULL DEFAULT 0
);

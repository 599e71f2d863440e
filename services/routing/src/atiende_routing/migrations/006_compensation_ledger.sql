-- The compensation ledger: every courtesy granted on a case, and every reversal of one, as an
-- append-only row (a reversal is a new row with a negative amount pointing at its grant). Written
-- here first so the problems' magnitude (compensation cost of the linked cases) and the
-- compensations themselves share one table. The catalogue, limits and approval requests that feed
-- it come in 007.
CREATE TABLE compensation_ledger (
    entry_id          uuid PRIMARY KEY,
    entry_kind        text NOT NULL CHECK (entry_kind IN ('grant', 'reversal')),
    grant_id          uuid NOT NULL,          -- a grant's own entry_id; for a reversal, the grant it reverses
    case_id           uuid NOT NULL,
    customer_id       uuid,
    catalogue_code    text NOT NULL,
    catalogue_version integer NOT NULL,
    kind              text NOT NULL,          -- refund, replacement, discount, free repair, ...
    amount            numeric(14, 2) NOT NULL,-- positive for a grant, negative for a reversal
    currency          char(3) NOT NULL,
    cost_centre       text,
    team              text,
    agent_id          text,
    actor             text,                   -- who granted or reversed it (token subject)
    approved_by       text,                   -- set when the grant needed an approval
    request_id        uuid,                   -- the approval request it came from, if any
    reason            text,
    recorded_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((entry_kind = 'grant' AND amount > 0 AND grant_id = entry_id)
        OR (entry_kind = 'reversal' AND amount < 0 AND grant_id <> entry_id))
);
CREATE INDEX compensation_ledger_case ON compensation_ledger (case_id);
CREATE INDEX compensation_ledger_customer ON compensation_ledger (customer_id, recorded_at);
CREATE INDEX compensation_ledger_grant ON compensation_ledger (grant_id);
CREATE INDEX compensation_ledger_recorded ON compensation_ledger (recorded_at);

-- append-only: a row once written is never changed or removed (a reversal is a new row)
CREATE FUNCTION compensation_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the compensation ledger is append-only (% refused)', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER compensation_ledger_append_only
    BEFORE UPDATE OR DELETE ON compensation_ledger
    FOR EACH ROW EXECUTE FUNCTION compensation_ledger_append_only();

-- The NOTIFY a new or moved timer sends now says when it falls due (seconds since the epoch, the
-- earliest of the statement's pending rows), so a worker that will wake before then anyway stays
-- asleep: most timers fall due hours after they are scheduled, and waking every timer worker for
-- each new case cost a claim and a next_due query per case. Rows a statement fires (fired_at set)
-- send nothing. Transition tables allow one event per trigger: one trigger for INSERT, one for
-- UPDATE (an upsert fires both, each with its own rows).
CREATE OR REPLACE FUNCTION timers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    earliest timestamptz;
BEGIN
    SELECT min(due_at) INTO earliest FROM changed_timers WHERE fired_at IS NULL;
    IF earliest IS NOT NULL THEN
        PERFORM pg_notify('{schema}_timers', extract(epoch FROM earliest)::text);
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER timers_notify ON timers;

CREATE TRIGGER timers_notify_insert AFTER INSERT ON timers
    REFERENCING NEW TABLE AS changed_timers
    FOR EACH STATEMENT EXECUTE FUNCTION timers_notify();

CREATE TRIGGER timers_notify_update AFTER UPDATE ON timers
    REFERENCING NEW TABLE AS changed_timers
    FOR EACH STATEMENT EXECUTE FUNCTION timers_notify();

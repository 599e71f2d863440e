-- Every change to the webhook endpoints, from any replica, is announced: each process keeps a
-- copy of the endpoints for fanning out events and forgets it on this NOTIFY (it is sent when
-- the changing transaction commits).
CREATE FUNCTION webhook_endpoints_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{schema}_webhook_endpoints', '');
    RETURN NULL;
END $$;

CREATE TRIGGER webhook_endpoints_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON webhook_endpoints FOR EACH STATEMENT EXECUTE FUNCTION webhook_endpoints_notify();

-- Each contact remembers how it met its case — it opened it, joined it (and why), or was only
-- recorded — so a case's history and GET /contacts/{id} say what POST /contacts answered.
ALTER TABLE contacts
    ADD COLUMN outcome     text CHECK (outcome IN ('opened', 'joined', 'recorded')),
    ADD COLUMN link_reason text CHECK (link_reason IN ('case_number', 'same_problem'));
-- Contacts written before this migration: the first contact of a case opened it (the reason a
-- later one joined was not kept).
UPDATE contacts c SET outcome = CASE
    WHEN c.case_id IS NULL THEN 'recorded'
    WHEN c.id = (SELECT f.id FROM contacts f WHERE f.case_id = c.case_id
                 ORDER BY f.received_at, f.created_at, f.id LIMIT 1) THEN 'opened'
    ELSE 'joined' END;
ALTER TABLE contacts
    ALTER COLUMN outcome SET NOT NULL,
    ADD CHECK ((outcome = 'recorded') = (case_id IS NULL)),
    ADD CHECK (link_reason IS NULL OR outcome = 'joined');

-- The lists' orders and filters: a case's contacts oldest first; newest first per customer,
-- motive or status, with the id breaking ties as the cursor does.
DROP INDEX contacts_by_case;
CREATE INDEX contacts_by_case ON contacts (case_id, received_at, id);
CREATE INDEX contacts_by_motive ON contacts (motive, received_at DESC, id DESC) WHERE motive IS NOT NULL;
DROP INDEX cases_customer;
CREATE INDEX cases_by_customer ON cases (customer_id, opened_at DESC, id DESC);
CREATE INDEX cases_by_motive ON cases (motive, opened_at DESC, id DESC);
CREATE INDEX cases_by_status ON cases (status, opened_at DESC, id DESC);

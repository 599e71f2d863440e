-- Surveys' copy of each case's customer facts, from case.opened: who would be asked, in which
-- language (and, later, how often that customer has been asked already).
CREATE TABLE cases (
    case_id      uuid PRIMARY KEY,
    case_number  text        NOT NULL,
    customer_id  uuid        NOT NULL,
    language     text        NOT NULL,
    opened_at    timestamptz NOT NULL
);
CREATE INDEX cases_by_customer ON cases (customer_id);

-- Customers intake erased: remembered so that a copy arriving late (a delayed case.opened, a
-- consent change) is not stored in clear and the person is never surveyed again.
CREATE TABLE erased_customers (
    customer_id uuid        PRIMARY KEY,
    erased_at   timestamptz NOT NULL
);

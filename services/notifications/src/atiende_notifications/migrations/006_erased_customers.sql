-- Customers intake erased: remembered so that a copy arriving late (a delayed case.opened) is
-- stored without their name, address or phone, and nothing more is sent to them.
CREATE TABLE erased_customers (
    customer_id uuid        PRIMARY KEY,
    erased_at   timestamptz NOT NULL
);

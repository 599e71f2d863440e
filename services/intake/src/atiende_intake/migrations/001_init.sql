CREATE TABLE customers (
    id          uuid PRIMARY KEY,
    name        text        NOT NULL,
    email       text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE case_number_counters (
    year  int PRIMARY KEY,
    last  int NOT NULL
);

CREATE TABLE cases (
    id           uuid PRIMARY KEY,
    number       text        NOT NULL UNIQUE,
    customer_id  uuid        NOT NULL REFERENCES customers (id),
    type         text        NOT NULL,
    channel      text        NOT NULL,
    description  text        NOT NULL,
    opened_at    timestamptz NOT NULL
);
CREATE INDEX cases_customer ON cases (customer_id, opened_at DESC);

-- Customers with many identities, every contact recorded, a parametrised catalogue, and cases
-- that know their motive and whether they are still open.

-- Customers: a profile; how to reach and recognise them moves to customer_identities.
ALTER TABLE customers
    ADD COLUMN tier              text        NOT NULL DEFAULT 'standard' CHECK (tier IN ('standard', 'vip')),
    ADD COLUMN language          text        NOT NULL DEFAULT 'es',
    ADD COLUMN formality         text        NOT NULL DEFAULT 'formal' CHECK (formality IN ('formal', 'informal')),
    ADD COLUMN consent_surveys   boolean     NOT NULL DEFAULT true,
    ADD COLUMN consent_marketing boolean     NOT NULL DEFAULT false,
    ADD COLUMN merged_into       uuid        REFERENCES customers (id),
    ADD COLUMN erased_at         timestamptz,
    ADD COLUMN updated_at        timestamptz NOT NULL DEFAULT now();
ALTER TABLE customers DROP CONSTRAINT customers_email_key;
ALTER TABLE customers RENAME COLUMN email TO primary_email;
ALTER TABLE customers ALTER COLUMN primary_email DROP NOT NULL;

-- Every way we recognise a customer. (kind, scope, value) is unique: one identity, one customer.
CREATE TABLE customer_identities (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    customer_id  uuid        NOT NULL REFERENCES customers (id),
    kind         text        NOT NULL CHECK (kind IN ('email', 'phone', 'document', 'external', 'chat')),
    -- external: the other system's name; chat: the platform; document: its type/country; else ''
    scope        text        NOT NULL DEFAULT '',
    value        text        NOT NULL,   -- normalised: lower-case email, E.164 phone, upper-case document
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (kind, scope, value)
);
CREATE INDEX customer_identities_by_customer ON customer_identities (customer_id);
INSERT INTO customer_identities (customer_id, kind, value)
    SELECT id, 'email', lower(primary_email) FROM customers;

-- A merge records exactly what moved, so it can be undone.
CREATE TABLE customer_merges (
    id            uuid        PRIMARY KEY,
    source_id     uuid        NOT NULL REFERENCES customers (id),
    target_id     uuid        NOT NULL REFERENCES customers (id),
    identity_ids  uuid[]      NOT NULL,
    contact_ids   uuid[]      NOT NULL,
    case_ids      uuid[]      NOT NULL,
    merged_at     timestamptz NOT NULL,
    undone_at     timestamptz,
    CHECK (source_id <> target_id)
);

-- The parametrised catalogue: managed data, deactivated but never deleted.
CREATE TABLE catalogue_entries (
    kind         text        NOT NULL CHECK (kind IN ('motive', 'cause', 'touchpoint', 'product')),
    code         text        NOT NULL CHECK (code ~ '^[A-Z0-9][A-Z0-9_-]{0,39}$'),
    parent_code  text,       -- a cause's motive
    name_es      text        NOT NULL,
    name_en      text        NOT NULL,
    active       boolean     NOT NULL DEFAULT true,
    valid_from   date,
    valid_to     date,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, code),
    CHECK (valid_from IS NULL OR valid_to IS NULL OR valid_from <= valid_to),
    CHECK ((kind = 'cause') = (parent_code IS NOT NULL))
);

-- A starter catalogue, so a fresh installation can take cases at once; admins change it over the API.
INSERT INTO catalogue_entries (kind, code, parent_code, name_es, name_en) VALUES
    ('motive', 'BILLING', NULL, 'Facturación y cobros', 'Billing and charges'),
    ('motive', 'DELIVERY', NULL, 'Entrega', 'Delivery'),
    ('motive', 'PRODUCT', NULL, 'Producto', 'Product'),
    ('motive', 'SERVICE', NULL, 'Atención recibida', 'Service received'),
    ('motive', 'INFORMATION', NULL, 'Información', 'Information'),
    ('motive', 'OTHER', NULL, 'Otros motivos', 'Other'),
    ('cause', 'BILLING_WRONG_AMOUNT', 'BILLING', 'Importe incorrecto', 'Wrong amount'),
    ('cause', 'BILLING_DUPLICATE_CHARGE', 'BILLING', 'Cobro duplicado', 'Charged twice'),
    ('cause', 'DELIVERY_LATE', 'DELIVERY', 'Entrega tardía', 'Late delivery'),
    ('cause', 'DELIVERY_INCOMPLETE', 'DELIVERY', 'Pedido incompleto', 'Incomplete order'),
    ('cause', 'DELIVERY_DAMAGED', 'DELIVERY', 'Llegó dañado', 'Arrived damaged'),
    ('cause', 'PRODUCT_DEFECT', 'PRODUCT', 'Defecto de fabricación', 'Manufacturing defect'),
    ('cause', 'SERVICE_WAIT', 'SERVICE', 'Tiempo de espera', 'Waiting time'),
    ('cause', 'SERVICE_ATTITUDE', 'SERVICE', 'Trato del personal', 'Staff attitude'),
    ('touchpoint', 'WEB', NULL, 'Sitio web', 'Website'),
    ('touchpoint', 'PHONE_LINE', NULL, 'Línea telefónica', 'Phone line'),
    ('touchpoint', 'STORE', NULL, 'Tienda', 'Store'),
    ('touchpoint', 'EMAIL', NULL, 'Correo electrónico', 'Email'),
    ('touchpoint', 'SOCIAL', NULL, 'Redes sociales', 'Social media'),
    ('product', 'GENERAL', NULL, 'General', 'General');

-- Cases know their classification and whether they are still open (status is intake's copy of
-- routing's lifecycle, learnt from its events).
ALTER TABLE cases
    ADD COLUMN motive            text,
    ADD COLUMN cause             text,
    ADD COLUMN touchpoint        text,
    ADD COLUMN product           text,
    ADD COLUMN severity          text,
    ADD COLUMN upset             boolean NOT NULL DEFAULT false,
    ADD COLUMN expectation       text,
    ADD COLUMN reply_email       text,
    ADD COLUMN status            text    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'closed')),
    ADD COLUMN status_changed_at timestamptz;
UPDATE cases c SET motive = 'OTHER', reply_email = cu.primary_email FROM customers cu WHERE cu.id = c.customer_id;
ALTER TABLE cases ALTER COLUMN motive SET NOT NULL;
CREATE INDEX cases_open_by_customer_motive ON cases (customer_id, motive, opened_at DESC) WHERE status = 'open';
CREATE INDEX cases_by_opened ON cases (opened_at DESC, id DESC);

-- Every interaction, whether or not it opened or joined a case.
CREATE TABLE contacts (
    id               uuid        PRIMARY KEY,
    customer_id      uuid        NOT NULL REFERENCES customers (id),
    case_id          uuid        REFERENCES cases (id),
    kind             text        NOT NULL,
    channel          text        NOT NULL,
    direction        text        NOT NULL DEFAULT 'inbound',
    touchpoint       text,
    moment_of_truth  text,
    motive           text,
    cause            text,
    product          text,
    agent_id         text,
    body             text        NOT NULL,
    expectation      text,
    severity         text,
    upset            boolean     NOT NULL DEFAULT false,
    external_ref     text,       -- e.g. an email's Message-ID: the same email twice is one contact
    attachments      jsonb       NOT NULL DEFAULT '[]',
    received_at      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_external_ref ON contacts (channel, external_ref) WHERE external_ref IS NOT NULL;
CREATE INDEX contacts_by_customer ON contacts (customer_id, received_at DESC, id DESC);
CREATE INDEX contacts_by_case ON contacts (case_id);
CREATE INDEX contacts_by_received ON contacts (received_at DESC, id DESC);
INSERT INTO contacts (id, customer_id, case_id, kind, channel, body, received_at)
    SELECT gen_random_uuid(), customer_id, id, type, channel, description, opened_at FROM cases;

-- Fixed-window counters for the public web form's per-address rate limit (shared by replicas).
CREATE TABLE rate_limits (
    bucket        text        NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          int         NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

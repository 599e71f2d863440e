-- The case lifecycle: who works the case and by which rule, its status with the pause reason,
-- the escalation level, the customer facts rules look at, the version behind the ETag; the seven
-- steps, commitments, escalations, the timeline; the managed phrasebook (pause reasons: 002).
ALTER TABLE cases
    ADD COLUMN agent_id        text,
    ADD COLUMN priority        text NOT NULL DEFAULT 'normal',
    ADD COLUMN policy_id       text,
    ADD COLUMN rule_id         text,
    ADD COLUMN rule_version    int,
    ADD COLUMN customer_id     uuid,
    ADD COLUMN channel         text,
    ADD COLUMN motive          text,
    ADD COLUMN cause           text,
    ADD COLUMN touchpoint      text,
    ADD COLUMN product         text,
    ADD COLUMN severity        text,
    ADD COLUMN region          text,
    ADD COLUMN tier            text,
    ADD COLUMN language        text,
    ADD COLUMN formality       text,
    ADD COLUMN upset           boolean NOT NULL DEFAULT false,
    ADD COLUMN expectation     text,
    ADD COLUMN escalation      text,
    ADD COLUMN responsible_id  text,
    ADD COLUMN waiting_reason  text,
    ADD COLUMN waiting_note    text,
    ADD COLUMN closed_at       timestamptz,
    ADD COLUMN close_reason    text,
    ADD COLUMN reopened_at     timestamptz,
    ADD COLUMN merged_into     uuid,
    ADD COLUMN sla_due_at      timestamptz,
    ADD COLUMN version         int NOT NULL DEFAULT 1;

-- queues: escalated first, then the earliest deadline
CREATE INDEX cases_team_queue ON cases (team, (escalation IS NULL), sla_due_at, opened_at, id)
    WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX cases_agent_queue ON cases (agent_id, (escalation IS NULL), sla_due_at, opened_at, id)
    WHERE status NOT IN ('resolved', 'closed');
CREATE INDEX cases_customer ON cases (customer_id);

CREATE TABLE case_steps (
    case_id        uuid        NOT NULL REFERENCES cases (id),
    step           text        NOT NULL,
    text           text        NOT NULL,
    author         text,
    recorded_at    timestamptz NOT NULL,
    options        text[]      NOT NULL DEFAULT '{}',
    chosen         text,
    commitment_id  uuid,
    source         text        NOT NULL DEFAULT 'agent',
    PRIMARY KEY (case_id, step)
);

CREATE TABLE commitments (
    id           uuid PRIMARY KEY,
    case_id      uuid        NOT NULL REFERENCES cases (id),
    case_number  text        NOT NULL,
    description  text        NOT NULL,
    owner_id     text        NOT NULL,
    owner_email  text,
    to_whom      text,
    channel      text,
    due_at       timestamptz NOT NULL,
    made_at      timestamptz NOT NULL,
    state        text        NOT NULL DEFAULT 'open',
    reminded_at  timestamptz,
    kept_at      timestamptz,
    missed_at    timestamptz,
    actor        text
);
CREATE INDEX commitments_case ON commitments (case_id, due_at);

CREATE TABLE escalations (
    id              bigserial PRIMARY KEY,
    case_id         uuid        NOT NULL REFERENCES cases (id),
    level           text        NOT NULL,
    reason          text        NOT NULL,
    responsible_id  text,
    actor           text,
    note            text,
    direction       text        NOT NULL,
    at              timestamptz NOT NULL
);
CREATE INDEX escalations_case ON escalations (case_id, id);

-- what happened to the case, in order, in words an agent reads (events are for services)
CREATE TABLE timeline (
    id       bigserial PRIMARY KEY,
    case_id  uuid        NOT NULL,
    at       timestamptz NOT NULL,
    kind     text        NOT NULL,
    actor    text,
    summary  text        NOT NULL
);
CREATE INDEX timeline_case ON timeline (case_id, id);

CREATE TABLE phrasebook (
    language  text NOT NULL,
    register  text NOT NULL,
    position  int  NOT NULL,
    text      text NOT NULL,
    PRIMARY KEY (language, register, position)
);
INSERT INTO phrasebook (language, register, position, text) VALUES
    ('es', 'formal', 0, 'Entiendo su malestar y me hago cargo personalmente.'),
    ('es', 'formal', 1, 'Lo que me cuenta es importante; déjeme anotarlo con detalle.'),
    ('es', 'formal', 2, 'Tiene razón en querer una respuesta, y se la voy a dar.'),
    ('es', 'formal', 3, 'Lo reviso ahora mismo y le digo qué he encontrado.'),
    ('es', 'formal', 4, 'Gracias por avisarnos; así podemos corregirlo.'),
    ('es', 'formal', 5, 'Queremos que quede satisfecho con la solución.'),
    ('es', 'informal', 0, 'Entiendo que estés molesto; me encargo yo.'),
    ('es', 'informal', 1, 'Lo que me cuentas es importante; lo apunto todo.'),
    ('es', 'informal', 2, 'Normal que quieras una respuesta, y te la voy a dar.'),
    ('es', 'informal', 3, 'Lo miro ahora mismo y te cuento.'),
    ('es', 'informal', 4, 'Gracias por decírnoslo; así lo podemos arreglar.'),
    ('es', 'informal', 5, 'Queremos que acabes contento con la solución.'),
    ('en', 'formal', 0, 'I understand your frustration, and I will take care of this personally.'),
    ('en', 'formal', 1, 'What you are telling me matters; allow me to note every detail.'),
    ('en', 'formal', 2, 'You are right to expect an answer, and you will have one.'),
    ('en', 'formal', 3, 'I am looking into it right now and will tell you what I find.'),
    ('en', 'formal', 4, 'Thank you for letting us know; it helps us put it right.'),
    ('en', 'formal', 5, 'We want you to be satisfied with the outcome.'),
    ('en', 'informal', 0, 'I get why you''re upset, and I''m on it.'),
    ('en', 'informal', 1, 'This matters, so I''m writing it all down.'),
    ('en', 'informal', 2, 'Fair enough that you want an answer; you''ll get one.'),
    ('en', 'informal', 3, 'Let me check that right now and get back to you.'),
    ('en', 'informal', 4, 'Thanks for telling us; now we can fix it.'),
    ('en', 'informal', 5, 'We want you happy with how this ends.');

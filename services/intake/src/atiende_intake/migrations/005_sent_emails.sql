-- The emails notifications sent about each case, learnt from notification.sent. A customer's reply
-- names the email it answers in In-Reply-To/References (its Message-ID is <delivery_id@atiende>),
-- so the reply finds its case even when the customer changed the subject and lost the number.
CREATE TABLE sent_emails (
    delivery_id  uuid        PRIMARY KEY,
    case_id      uuid        NOT NULL,
    sent_at      timestamptz NOT NULL
);

-- Survey invitations, one per resolved case. Only the SHA-256 of each link's token is kept, so a
-- copy of this table does not open anyone's survey.
CREATE TABLE invitations (
    id           uuid PRIMARY KEY,
    case_id      uuid        NOT NULL,
    case_number  text        NOT NULL,
    token_hash   text        NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    -- 'expired' is written only when a newer invitation replaces an overdue one; until then a
    -- pending row past expires_at reads as expired (domain.Invitation.status_at)
    status       text        NOT NULL CHECK (status IN ('pending', 'answered', 'expired')),
    invited_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL CHECK (expires_at > invited_at)
);
-- A customer is never asked twice about one case at the same time, whatever the events say.
CREATE UNIQUE INDEX invitations_one_pending_per_case ON invitations (case_id) WHERE status = 'pending';
CREATE INDEX invitations_by_case ON invitations (case_id, invited_at);

-- The answer to an invitation; the primary key makes a second answer impossible.
CREATE TABLE responses (
    invitation_id  uuid        PRIMARY KEY REFERENCES invitations (id),
    satisfaction   smallint    NOT NULL CHECK (satisfaction BETWEEN 1 AND 5),
    comment        text        CHECK (char_length(comment) <= 1000),
    answered_at    timestamptz NOT NULL
);

-- The reminder's own link: a second random token for the same invitation, kept (like the first)
-- only as its SHA-256; NULL until the one reminder is sent. The invitation's link keeps working.
ALTER TABLE invitations
    ADD COLUMN reminder_token_hash text UNIQUE CHECK (reminder_token_hash ~ '^[0-9a-f]{64}$');

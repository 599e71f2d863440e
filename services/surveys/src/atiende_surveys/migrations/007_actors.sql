-- Who did it: the token subject of the staff member who published a questionnaire version or
-- started a campaign (NULL when authentication is off, and for rows older than these columns).
ALTER TABLE questionnaires ADD COLUMN published_by text;
ALTER TABLE campaigns ADD COLUMN created_by text;

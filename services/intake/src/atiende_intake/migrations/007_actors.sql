-- Who did it: the token subject of the staff member or client behind each change (NULL when the
-- customer did it themselves, when authentication is off, or for rows older than this column).
ALTER TABLE cases ADD COLUMN opened_by text;
ALTER TABLE customers
    ADD COLUMN updated_by text,
    ADD COLUMN erased_by  text;
ALTER TABLE customer_merges
    ADD COLUMN merged_by text,
    ADD COLUMN undone_by text;
ALTER TABLE catalogue_entries ADD COLUMN updated_by text;

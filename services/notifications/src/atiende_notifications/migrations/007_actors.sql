-- Who did it: the token subject of the staff member who last set a customer's preferences or a
-- staff member's channels through the API (NULL when notifications itself changed them, e.g.
-- after a bounce or an event, when authentication is off, and for rows older than the column).
ALTER TABLE customer_preferences ADD COLUMN updated_by text;
ALTER TABLE staff ADD COLUMN updated_by text;

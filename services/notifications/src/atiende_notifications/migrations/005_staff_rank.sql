-- A staff member's rank (from agent.changed): administrators can be "every active manager".
ALTER TABLE staff ADD COLUMN rank text;

-- Recovery cases: routing's own work item opened for a detractor's answer, linked to the case
-- the customer answered about (numbered <original>-R, -R2 ...).
ALTER TABLE cases ADD COLUMN recovery_of uuid;
CREATE INDEX cases_recovery_of ON cases (recovery_of) WHERE recovery_of IS NOT NULL;

-- A customer known only by phone or chat handle has no email address: the case is remembered,
-- and email notices for it are skipped (other channels will come).
ALTER TABLE recipients ALTER COLUMN customer_email DROP NOT NULL;

-- A merge also re-points customers that had been merged into its source (A merged into B, then B
-- into C: A now points at C), so `merged_into` always names a customer that is still in use and
-- one hop finds the survivor. The merge records whom it re-pointed, so an undo puts them back.
ALTER TABLE customer_merges ADD COLUMN repointed_ids uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX customers_merged_into ON customers (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX customer_merges_by_source ON customer_merges (source_id, merged_at DESC);

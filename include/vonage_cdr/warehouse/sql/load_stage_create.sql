-- Staging table for one load: same columns as the product table, gone at COMMIT or ROLLBACK.
-- {stage} and {target} are filled in with quoted identifiers by warehouse/load.py.
CREATE TEMP TABLE {stage} (LIKE {target} INCLUDING DEFAULTS) ON COMMIT DROP

-- Compare strategy: how many rows of the file repeat a record id read earlier in the same file. Any: the
-- streamed load is rolled back to its savepoint and the file is loaded through load_stage_dedupe.sql
-- instead, which keeps the last occurrence and counts the others.
SELECT count(*) - count(DISTINCT {record_id}) FROM {keys}

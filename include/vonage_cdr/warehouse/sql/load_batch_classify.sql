-- Flag the rows of one batch the merge must see: records not stored under this (id, event time), and stored
-- ones whose fingerprint (_row_hash: BLAKE2b of the row's encoded values, warehouse/copy_binary.py) differs
-- or is unknown (NULL). Unchanged rows stop here: they are only counted, never locked or written (no WAL, no
-- dead tuples), which makes a reload of an unchanged file read-only, and the batch itself never reaches
-- PostgreSQL in full: only its keys and fingerprints do.
-- The lookup is LATERAL ... LIMIT 1 on purpose: one primary-key probe per row, in the one partition its
-- event time names (run-time pruning), whatever the size of the product table; a hash join would scan
-- every partition for every batch.
INSERT INTO {flagged}
SELECT k._ord
FROM {batch_keys} AS k
LEFT JOIN LATERAL (
    SELECT t._row_hash
    FROM {target} AS t
    WHERE t.{record_id} = k.{record_id} AND t.event_time = k.event_time
    LIMIT 1
) AS t ON true
WHERE t._row_hash IS NULL OR t._row_hash <> k._row_hash

-- Compare strategy: flag the rows the merge must see, by their row number in the file: records not stored
-- under this (id, event time), and stored ones whose fingerprint (_row_hash: BLAKE2b of the row's encoded
-- values, warehouse/copy_binary.py) differs or is unknown (NULL). Unchanged rows stop here: they are only
-- counted, never locked or written (no WAL, no dead tuples), which makes a reload of an unchanged file
-- read-only; and the file never reaches PostgreSQL in full, only its keys and fingerprints do.
-- One statement over the whole file ({keys} has been ANALYZEd): the planner chooses between a hash join
-- (when the file is a good part of its months) and one primary-key probe per row (a day in a big month).
-- The event-time bounds of the file prune the product table's partitions to the months it covers.
INSERT INTO {flagged}
SELECT k._ord
FROM {keys} AS k
LEFT JOIN {target} AS t
    ON t.{record_id} = k.{record_id}
   AND t.event_time = k.event_time
   AND t.event_time >= %(low)s
   AND t.event_time <= %(high)s
WHERE t._row_hash IS NULL OR t._row_hash <> k._row_hash

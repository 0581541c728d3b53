-- After COPYing a file straight into the product table: how many of its records were already stored under
-- another event time. Any: the direct insert is rolled back to its savepoint and the file is merged instead,
-- which moves those records (load_move.sql). Runs under the 'cdr.load_merge' lock, held since the first row.
-- {keys} has been ANALYZEd, so the planner can choose a merge or hash join over one probe per partition.
SELECT count(*)
FROM {keys} AS k
WHERE EXISTS (
    SELECT FROM {target} AS t
    WHERE t.{record_id} = k.{record_id} AND t.event_time <> k.event_time
)

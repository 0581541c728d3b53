-- After COPYing a file straight into the product table: how many of its keys have their record id stored
-- under another event time as well. That is a record stored before under another time (it must be moved),
-- or a record the file itself repeats under two times (the last occurrence must win); the same id at the
-- same time twice already failed the primary key. Any: the direct insert is rolled back to its savepoint
-- and the file is merged instead (load_stage_dedupe.sql, load_move.sql). Runs under the 'cdr.load_merge'
-- lock, held since the first row, so no other load can add such a row meanwhile.
-- {keys} has been ANALYZEd, so the planner can choose a merge or hash join over one probe per partition.
SELECT count(*)
FROM {keys} AS k
WHERE EXISTS (
    SELECT FROM {target} AS t
    WHERE t.{record_id} = k.{record_id} AND t.event_time <> k.event_time
)

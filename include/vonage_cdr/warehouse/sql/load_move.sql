-- A record is ONE row, identified by its record id alone, whatever its event time. The primary key is
-- (id, event_time) because PostgreSQL needs the partition key in every unique index of a partitioned table,
-- so this statement enforces the rest: a staged record whose id is stored under a DIFFERENT event time (Vonage
-- corrected the time; the record may even change month partition) has its stored row deleted here and kept in
-- {moved}; load_merge.sql then inserts it at the new event time, taking from {moved} the values of the
-- columns this file did not carry and _first_loaded_at.
-- Cost: a staged row already stored under the same (id, event_time) - every row of a reload - costs one
-- primary-key probe in one partition (run-time pruning on event_time). Only the other rows (new records and
-- moved ones) are looked up by id in every monthly partition: one primary-key probe per partition each.
-- Runs under the 'cdr.load_merge' lock of load_lock.sql, in the load's transaction.
WITH candidates AS (
    SELECT s.{record_id}, s.event_time
    FROM {stage} AS s
    WHERE NOT EXISTS (
        SELECT 1 FROM {target} AS t WHERE t.{record_id} = s.{record_id} AND t.event_time = s.event_time
    )
), gone AS (
    DELETE FROM {target} AS t
    USING candidates AS c
    WHERE t.{record_id} = c.{record_id} AND t.event_time <> c.event_time
    RETURNING t.*
)
INSERT INTO {moved} SELECT * FROM gone

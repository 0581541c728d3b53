-- A transaction-level advisory lock, released at COMMIT or ROLLBACK. Two scopes are used by warehouse/load.py:
-- * 'cdr.load_report' + report id: loads of the same report take turns, so only the first one bills it;
-- * 'cdr.load_merge' + product table: merges into one product table take turns, so the one-row-per-record-id
--   rule (load_move.sql + load_merge.sql) holds even when a daily and an incremental load meet a record at
--   the same time. COPY into staging runs before this lock, in parallel.
-- The wait is bounded by statement_timeout, not lock_timeout (load.py, _wait_for_turn).
SELECT pg_advisory_xact_lock(hashtext(%(scope)s), hashtext(%(key)s))

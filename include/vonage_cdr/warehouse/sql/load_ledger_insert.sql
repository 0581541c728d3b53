-- The ledger row is written first (counts zero) so its load_id can stamp the rows and the quarantine; the
-- counts are filled in by load_ledger_finish.sql in the same transaction, so nobody ever sees the zeros.
INSERT INTO cdr.load_ledger (
    product, account_id, direction, mode, window_start, window_end, report_request_id, source_file,
    rows_read, rows_loaded, rows_inserted, rows_updated, rows_unchanged, rows_quarantined, cdrs_billed,
    unknown_columns, missing_columns, started_at, download_seconds, normalize_seconds,
    dag_id, run_id, task_id, try_number
) VALUES (
    %(product)s, %(account_id)s, %(direction)s, %(mode)s, %(window_start)s, %(window_end)s,
    %(report_request_id)s, %(source_file)s,
    %(rows_read)s, 0, 0, 0, 0, %(rows_quarantined)s, %(cdrs_billed)s,
    %(unknown_columns)s, %(missing_columns)s, %(started_at)s, %(download_seconds)s, %(normalize_seconds)s,
    %(dag_id)s, %(run_id)s, %(task_id)s, %(try_number)s
)
RETURNING load_id

-- The ledger row is written first (counts zero) so its load_id can stamp the rows and the quarantine; the
-- counts are filled in by load_ledger_finish.sql in the same transaction, so nobody ever sees the zeros.
-- cdrs_billed: Vonage bills a report once, when it is made. A load of a report that an earlier committed load
-- already recorded (a re-run reusing the report) records 0, so analytics.load_costs counts each report once.
-- Loads of one report take turns (load_lock.sql), so two of them cannot both bill it.
INSERT INTO cdr.load_ledger (
    product, account_id, direction, mode, window_start, window_end, report_request_id, source_file,
    rows_expected, rows_read, rows_loaded, rows_inserted, rows_updated, rows_unchanged, rows_quarantined,
    cdrs_billed, unknown_columns, missing_columns, started_at, download_seconds, normalize_seconds,
    dag_id, run_id, task_id, try_number
) VALUES (
    %(product)s, %(account_id)s, %(direction)s, %(mode)s, %(window_start)s, %(window_end)s,
    %(report_request_id)s, %(source_file)s,
    %(rows_expected)s, %(rows_read)s, 0, 0, 0, 0, %(rows_quarantined)s,
    CASE
        WHEN EXISTS (
            SELECT 1 FROM cdr.load_ledger AS earlier
            WHERE earlier.report_request_id = %(report_request_id)s
        ) THEN 0
        ELSE %(cdrs_billed)s
    END,
    %(unknown_columns)s, %(missing_columns)s, %(started_at)s, %(download_seconds)s, %(normalize_seconds)s,
    %(dag_id)s, %(run_id)s, %(task_id)s, %(try_number)s
)
RETURNING load_id, cdrs_billed

-- Final counts and timings of a load, just before COMMIT.
-- rows_read = rows_loaded + rows_duplicate + rows_quarantined; rows_loaded = inserted + updated + unchanged.
UPDATE cdr.load_ledger SET
    rows_loaded = %(rows_loaded)s,
    rows_inserted = %(rows_inserted)s,
    rows_updated = %(rows_updated)s,
    rows_unchanged = %(rows_unchanged)s,
    rows_duplicate = %(rows_duplicate)s,
    rows_moved = %(rows_moved)s,
    load_seconds = %(load_seconds)s,
    finished_at = clock_timestamp()
WHERE load_id = %(load_id)s

-- Final counts and timings of a load, just before COMMIT. What the file held (rows read and quarantined,
-- unknown and missing columns, normalize time) is written here too: a load that streams the file while it is
-- being normalized knows it only at the end.
-- rows_read = rows_loaded + rows_duplicate + rows_quarantined; rows_loaded = inserted + updated + unchanged.
UPDATE cdr.load_ledger SET
    rows_read = %(rows_read)s,
    rows_quarantined = %(rows_quarantined)s,
    unknown_columns = %(unknown_columns)s,
    missing_columns = %(missing_columns)s,
    normalize_seconds = %(normalize_seconds)s,
    rows_loaded = %(rows_loaded)s,
    rows_inserted = %(rows_inserted)s,
    rows_updated = %(rows_updated)s,
    rows_unchanged = %(rows_unchanged)s,
    rows_duplicate = %(rows_duplicate)s,
    rows_moved = %(rows_moved)s,
    load_seconds = %(load_seconds)s,
    finished_at = clock_timestamp()
WHERE load_id = %(load_id)s

-- One row per record id, exact load accounting, undecodable rows kept byte for byte (issue 11).
-- Runs as the loader role, which owns the tables it alters.

-- The ledger accounts for every row read: rows_read = rows_loaded + rows_duplicate + rows_quarantined.
ALTER TABLE cdr.load_ledger ADD COLUMN rows_expected bigint;
ALTER TABLE cdr.load_ledger ADD COLUMN rows_duplicate bigint NOT NULL DEFAULT 0;
ALTER TABLE cdr.load_ledger ADD COLUMN rows_moved bigint NOT NULL DEFAULT 0;
-- A load finds out whether its report was already billed by an earlier load (load_ledger_insert.sql).
CREATE INDEX load_ledger_report_request_id_idx ON cdr.load_ledger (report_request_id)
    WHERE report_request_id IS NOT NULL;
COMMENT ON COLUMN cdr.load_ledger.rows_read IS
    'Records read from the source: rows_loaded + rows_duplicate + rows_quarantined.';
COMMENT ON COLUMN cdr.load_ledger.rows_loaded IS
    'Distinct records that reached the table: inserted + updated + unchanged.';
COMMENT ON COLUMN cdr.load_ledger.rows_updated IS
    'Records already present whose values changed (e.g. late status), moved records included.';
COMMENT ON COLUMN cdr.load_ledger.cdrs_billed IS
    'CDRs the Reports API charged for in this retrieval; 0 when an earlier load already recorded the same report.';
COMMENT ON COLUMN cdr.load_ledger.missing_columns IS
    'Expected columns absent from the source: unknown, so stored values were kept (NULL in new rows).';
COMMENT ON COLUMN cdr.load_ledger.rows_expected IS
    'Records the source announced (the report''s items_count); the load is refused when rows_read differs. NULL for sync.';
COMMENT ON COLUMN cdr.load_ledger.rows_duplicate IS
    'Records that repeated a record id already read from the same source (the last occurrence was loaded).';
COMMENT ON COLUMN cdr.load_ledger.rows_moved IS
    'Records whose event time changed since they were stored: moved to the new time (counted in rows_updated).';

-- Quarantined rows keep their exact bytes when raw_line cannot hold them (invalid UTF-8, NUL).
ALTER TABLE cdr.quarantine ADD COLUMN raw_bytes bytea;
COMMENT ON COLUMN cdr.quarantine.raw_line IS
    'The record as received (bytes that are not UTF-8 shown as \xNN escapes; exact bytes in raw_bytes).';
COMMENT ON COLUMN cdr.quarantine.raw_bytes IS
    'The record''s exact bytes when raw_line cannot hold them (invalid UTF-8 or NUL); NULL when raw_line is exact.';

-- Earlier loads merged on (id, event_time), so a record whose event time changed between two reads may be
-- stored twice. From now on the loader keeps one row per record id; remove the older copies once, keeping
-- the row written last. This scans each product table once.
DO $dedupe$
DECLARE
    product_table record;
    removed bigint;
BEGIN
    FOR product_table IN
        SELECT c.relname
        FROM pg_partitioned_table AS pt
        JOIN pg_class AS c ON c.oid = pt.partrelid
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE n.nspname = 'cdr'
          AND (SELECT count(*) FROM pg_attribute AS a
               WHERE a.attrelid = c.oid AND NOT a.attisdropped
                 AND a.attname IN ('id', 'event_time', '_last_changed_at', '_load_id')) = 4
        ORDER BY c.relname
    LOOP
        EXECUTE format(
            'DELETE FROM cdr.%1$I AS t
             USING (
                 SELECT id, event_time,
                        row_number() OVER (
                            PARTITION BY id ORDER BY _last_changed_at DESC, _load_id DESC, event_time DESC
                        ) AS copy_number
                 FROM cdr.%1$I
             ) AS d
             WHERE d.copy_number > 1 AND t.id = d.id AND t.event_time = d.event_time',
            product_table.relname
        );
        GET DIAGNOSTICS removed = ROW_COUNT;
        IF removed > 0 THEN
            RAISE NOTICE 'cdr.%: removed % older copies of records stored twice', product_table.relname, removed;
        END IF;
    END LOOP;
END
$dedupe$;

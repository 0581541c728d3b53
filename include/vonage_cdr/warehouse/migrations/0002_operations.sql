-- Load bookkeeping (the loader's contract), warehouse settings and the monthly partition maintainer.
-- Runs as the loader role, which therefore owns these objects.

CREATE TABLE cdr.load_ledger (
    load_id bigserial PRIMARY KEY,
    product text NOT NULL,
    account_id text NOT NULL,
    direction text NOT NULL DEFAULT '',
    mode text NOT NULL CHECK (mode IN ('async', 'sync')),
    window_start timestamptz NOT NULL,
    window_end timestamptz NOT NULL,
    report_request_id text,
    source_file text,
    rows_read bigint NOT NULL,
    rows_loaded bigint NOT NULL,
    rows_inserted bigint NOT NULL,
    rows_updated bigint NOT NULL,
    rows_unchanged bigint NOT NULL,
    rows_quarantined bigint NOT NULL,
    cdrs_billed bigint NOT NULL,
    unknown_columns text[] NOT NULL DEFAULT '{}',
    missing_columns text[] NOT NULL DEFAULT '{}',
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    download_seconds double precision,
    normalize_seconds double precision,
    load_seconds double precision,
    dag_id text,
    run_id text,
    task_id text,
    try_number integer
);
CREATE INDEX load_ledger_product_account_window_idx
    ON cdr.load_ledger (product, account_id, direction, window_start);
CREATE INDEX load_ledger_started_at_idx ON cdr.load_ledger (started_at);
COMMENT ON TABLE cdr.load_ledger IS
    'One row per load of one report file or one sync window: what was read, loaded, quarantined and billed.';
COMMENT ON COLUMN cdr.load_ledger.load_id IS 'Id of the load; product rows carry it in _load_id.';
COMMENT ON COLUMN cdr.load_ledger.product IS 'Reports API product loaded, e.g. SMS.';
COMMENT ON COLUMN cdr.load_ledger.account_id IS 'Account (API key) whose records were loaded.';
COMMENT ON COLUMN cdr.load_ledger.direction IS 'inbound/outbound, or empty for products without direction.';
COMMENT ON COLUMN cdr.load_ledger.mode IS 'async (daily CSV report) or sync (incremental JSON records).';
COMMENT ON COLUMN cdr.load_ledger.window_start IS 'Start of the event-time window requested (inclusive).';
COMMENT ON COLUMN cdr.load_ledger.window_end IS 'End of the event-time window requested (exclusive).';
COMMENT ON COLUMN cdr.load_ledger.report_request_id IS 'Reports API request id of the report or records call.';
COMMENT ON COLUMN cdr.load_ledger.source_file IS 'CSV file inside the report ZIP, or the lake file loaded.';
COMMENT ON COLUMN cdr.load_ledger.rows_read IS 'Records read from the source.';
COMMENT ON COLUMN cdr.load_ledger.rows_loaded IS 'Records that reached the table: inserted + updated + unchanged.';
COMMENT ON COLUMN cdr.load_ledger.rows_inserted IS 'Records new to the warehouse.';
COMMENT ON COLUMN cdr.load_ledger.rows_updated IS 'Records already present whose values changed (e.g. late status).';
COMMENT ON COLUMN cdr.load_ledger.rows_unchanged IS 'Records already present with identical values.';
COMMENT ON COLUMN cdr.load_ledger.rows_quarantined IS 'Records that could not be typed; see cdr.quarantine.';
COMMENT ON COLUMN cdr.load_ledger.cdrs_billed IS 'CDRs the Reports API charged for in this retrieval.';
COMMENT ON COLUMN cdr.load_ledger.unknown_columns IS 'Source fields the registry does not know (kept in extras).';
COMMENT ON COLUMN cdr.load_ledger.missing_columns IS 'Registry columns absent from the source (left NULL).';
COMMENT ON COLUMN cdr.load_ledger.started_at IS 'When the load started.';
COMMENT ON COLUMN cdr.load_ledger.finished_at IS 'When the load finished.';
COMMENT ON COLUMN cdr.load_ledger.download_seconds IS 'Time spent downloading.';
COMMENT ON COLUMN cdr.load_ledger.normalize_seconds IS 'Time spent typing the records.';
COMMENT ON COLUMN cdr.load_ledger.load_seconds IS 'Time spent writing to PostgreSQL.';
COMMENT ON COLUMN cdr.load_ledger.dag_id IS 'Airflow DAG that ran the load.';
COMMENT ON COLUMN cdr.load_ledger.run_id IS 'Airflow DAG run.';
COMMENT ON COLUMN cdr.load_ledger.task_id IS 'Airflow task.';
COMMENT ON COLUMN cdr.load_ledger.try_number IS 'Airflow task try.';

CREATE TABLE cdr.quarantine (
    quarantine_id bigserial PRIMARY KEY,
    load_id bigint NOT NULL REFERENCES cdr.load_ledger,
    product text NOT NULL,
    account_id text NOT NULL,
    direction text NOT NULL DEFAULT '',
    window_start timestamptz NOT NULL,
    window_end timestamptz NOT NULL,
    source_file text,
    line_number bigint,
    reason text NOT NULL,
    raw_line text NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_window_idx ON cdr.quarantine (product, account_id, direction, window_start, window_end);
CREATE INDEX quarantine_load_id_idx ON cdr.quarantine (load_id);
COMMENT ON TABLE cdr.quarantine IS
    'Source records that could not be typed, with the reason and the raw line; a reload of a window replaces them.';
COMMENT ON COLUMN cdr.quarantine.quarantine_id IS 'Id of the quarantined record.';
COMMENT ON COLUMN cdr.quarantine.load_id IS 'Load that met the record (cdr.load_ledger).';
COMMENT ON COLUMN cdr.quarantine.product IS 'Reports API product.';
COMMENT ON COLUMN cdr.quarantine.account_id IS 'Account (API key).';
COMMENT ON COLUMN cdr.quarantine.direction IS 'inbound/outbound, or empty.';
COMMENT ON COLUMN cdr.quarantine.window_start IS 'Start of the window being loaded.';
COMMENT ON COLUMN cdr.quarantine.window_end IS 'End of the window being loaded.';
COMMENT ON COLUMN cdr.quarantine.source_file IS 'File the record came from.';
COMMENT ON COLUMN cdr.quarantine.line_number IS 'Line (CSV) or position (JSON) of the record in its source.';
COMMENT ON COLUMN cdr.quarantine.reason IS 'Why the record could not be loaded.';
COMMENT ON COLUMN cdr.quarantine.raw_line IS 'The record as received.';
COMMENT ON COLUMN cdr.quarantine.quarantined_at IS 'When it was quarantined.';

CREATE TABLE cdr.sync_watermark (
    product text NOT NULL,
    account_id text NOT NULL,
    direction text NOT NULL DEFAULT '',
    watermark timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    load_id bigint,
    PRIMARY KEY (product, account_id, direction)
);
COMMENT ON TABLE cdr.sync_watermark IS 'How far the incremental (sync, every 5 minutes) load has read, per stream.';
COMMENT ON COLUMN cdr.sync_watermark.product IS 'Reports API product.';
COMMENT ON COLUMN cdr.sync_watermark.account_id IS 'Account (API key).';
COMMENT ON COLUMN cdr.sync_watermark.direction IS 'inbound/outbound, or empty.';
COMMENT ON COLUMN cdr.sync_watermark.watermark IS 'Event time up to which records have been read.';
COMMENT ON COLUMN cdr.sync_watermark.updated_at IS 'When the watermark last moved.';
COMMENT ON COLUMN cdr.sync_watermark.load_id IS 'Load that moved it.';

CREATE TABLE cdr.freshness (
    product text NOT NULL,
    account_id text NOT NULL,
    direction text NOT NULL DEFAULT '',
    mode text NOT NULL,
    newest_event_at timestamptz,
    checked_at timestamptz NOT NULL,
    lag_seconds double precision,
    load_id bigint,
    PRIMARY KEY (product, account_id, direction, mode)
);
COMMENT ON TABLE cdr.freshness IS
    'Newest event loaded per stream and load mode, as recorded by the last load (see analytics.freshness).';
COMMENT ON COLUMN cdr.freshness.product IS 'Reports API product.';
COMMENT ON COLUMN cdr.freshness.account_id IS 'Account (API key).';
COMMENT ON COLUMN cdr.freshness.direction IS 'inbound/outbound, or empty.';
COMMENT ON COLUMN cdr.freshness.mode IS 'async (daily) or sync (incremental).';
COMMENT ON COLUMN cdr.freshness.newest_event_at IS 'Newest event time present in the warehouse for this stream.';
COMMENT ON COLUMN cdr.freshness.checked_at IS 'When the load recorded it.';
COMMENT ON COLUMN cdr.freshness.lag_seconds IS 'checked_at minus newest_event_at, in seconds, at that time.';
COMMENT ON COLUMN cdr.freshness.load_id IS 'Load that recorded it.';

-- Small typed settings an operator may change (UPDATE as the loader role).
CREATE TABLE cdr.settings (
    name text PRIMARY KEY,
    value text NOT NULL,
    description text NOT NULL
);
INSERT INTO cdr.settings (name, value, description) VALUES
    ('reports_api_price_per_cdr', '0.0004',
     'Pay-as-you-go price of one CDR retrieved from the Reports API (seed 000: 0.0004 EUR per CDR).'),
    ('reports_api_currency', 'EUR', 'Currency of reports_api_price_per_cdr.');
COMMENT ON TABLE cdr.settings IS
    'Warehouse settings used by the views, e.g. the Reports API price per CDR (change with UPDATE).';
COMMENT ON COLUMN cdr.settings.name IS 'Setting name.';
COMMENT ON COLUMN cdr.settings.value IS 'Setting value (text; the views cast it).';
COMMENT ON COLUMN cdr.settings.description IS 'What the setting means.';

-- How each delivery status counts in analytics.delivery_rates_hourly. A table rather than a CASE so the
-- classification is documented, queryable and adjustable. Statuses not listed count as 'other'.
CREATE TABLE cdr.delivery_status_class (
    product text NOT NULL,
    status text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('delivered', 'failed', 'pending')),
    PRIMARY KEY (product, status)
);
INSERT INTO cdr.delivery_status_class (product, status, outcome) VALUES
    ('SMS', 'delivered', 'delivered'),
    ('SMS', 'expired', 'failed'),
    ('SMS', 'failed', 'failed'),
    ('SMS', 'rejected', 'failed'),
    ('SMS', 'deleted', 'failed'),
    ('SMS', 'accepted', 'pending'),
    ('SMS', 'buffered', 'pending'),
    ('SMS', 'submitted', 'pending'),
    ('MESSAGES', 'delivered', 'delivered'),
    ('MESSAGES', 'read', 'delivered'),
    ('MESSAGES', 'rejected', 'failed'),
    ('MESSAGES', 'undeliverable', 'failed'),
    ('MESSAGES', 'submitted', 'pending');
COMMENT ON TABLE cdr.delivery_status_class IS
    'Which (lower-case) status counts as delivered, failed or pending per product; unlisted statuses '
    '(e.g. SMS unknown) count as other.';
COMMENT ON COLUMN cdr.delivery_status_class.product IS 'Reports API product.';
COMMENT ON COLUMN cdr.delivery_status_class.status IS 'Status value, lower case.';
COMMENT ON COLUMN cdr.delivery_status_class.outcome IS 'delivered, failed or pending.';

-- Creates the monthly partitions (UTC calendar months, named <table>_pYYYYMM) of every partitioned table in
-- schema cdr for the months overlapping [p_from, p_to]. SECURITY DEFINER so partitions are always owned by
-- the loader role whichever member of it calls; idempotent; the advisory lock serialises concurrent callers.
CREATE FUNCTION cdr.ensure_partitions(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    parent record;
    month_start timestamptz;
    last_month timestamptz;
    partition_name text;
    created integer := 0;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'ensure_partitions: invalid range [%, %]', p_from, p_to;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('cdr.ensure_partitions'));
    last_month := date_trunc('month', p_to, 'UTC');
    FOR parent IN
        SELECT c.relname
        FROM pg_partitioned_table pt
        JOIN pg_class c ON c.oid = pt.partrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'cdr'
        ORDER BY c.relname
    LOOP
        month_start := date_trunc('month', p_from, 'UTC');
        WHILE month_start <= last_month LOOP
            partition_name := parent.relname || '_p' || to_char(month_start AT TIME ZONE 'UTC', 'YYYYMM');
            IF to_regclass(format('cdr.%I', partition_name)) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE cdr.%I PARTITION OF cdr.%I FOR VALUES FROM (%L) TO (%L)',
                    partition_name, parent.relname,
                    month_start, (month_start AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC'
                );
                created := created + 1;
            END IF;
            month_start := (month_start AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC';
        END LOOP;
    END LOOP;
    RETURN created;
END
$fn$;
REVOKE EXECUTE ON FUNCTION cdr.ensure_partitions(timestamptz, timestamptz) FROM PUBLIC;
COMMENT ON FUNCTION cdr.ensure_partitions(timestamptz, timestamptz) IS
    'Creates missing monthly partitions of every product table for the months overlapping [p_from, p_to]; '
    'returns how many it created. Idempotent and safe to call concurrently.';

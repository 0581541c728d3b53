-- migrate:run-as-connecting-user
-- Least privilege, per-table partition creation and durable report identity. Needs an administrator (a
-- superuser, or a role with CREATEROLE that is a member of the loader role), like 0001.
--
-- Until this migration the loader role owned every warehouse object, so the pipelines' login could DROP,
-- ALTER and GRANT anything. From here on:
--   {{owner_role}}   owns the schemas, tables, views and functions; migrations from 0006 on run as it;
--   {{loader_role}}  reads and writes data (SELECT, INSERT, UPDATE, DELETE) and creates the month
--                    partitions of one product table only through cdr.ensure_product_partitions (a
--                    SECURITY DEFINER function of the owner); no CREATE on any schema, owns nothing;
--   {{analyst_role}} reads.
-- Existing deployments: every object the loader owned in schemas cdr and analytics is handed to the owner
-- (grants made by the old owner are carried over by PostgreSQL).

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {{owner_role_literal}}) THEN
        CREATE ROLE {{owner_role}} NOLOGIN;
    END IF;
    -- a non-superuser administrator must be able to SET ROLE to the owner for the next migrations
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
       AND NOT pg_catalog.pg_has_role(current_user, {{owner_role_literal}}, 'MEMBER') THEN
        EXECUTE format('GRANT %I TO %I', {{owner_role_literal}}, current_user);
    END IF;
END
$roles$;

-- Hand every object of the loader in cdr/analytics to the owner: schemas, tables (partitions included;
-- indexes and column sequences follow their table), views, other sequences, functions, types.
DO $owner$
DECLARE
    loader oid := (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = {{loader_role_literal}});
    owner_name text := {{owner_role_literal}};
    obj record;
BEGIN
    FOR obj IN
        SELECT c.oid::regclass AS rel, c.relkind
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('cdr', 'analytics') AND c.relowner = loader AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    LOOP
        EXECUTE format(
            'ALTER %s %s OWNER TO %I',
            CASE obj.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                             WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
            obj.rel, owner_name
        );
    END LOOP;
    FOR obj IN
        SELECT c.oid::regclass AS rel
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN ('cdr', 'analytics') AND c.relowner = loader AND c.relkind = 'S'
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO %I', obj.rel, owner_name);
    END LOOP;
    FOR obj IN
        SELECT p.oid::regprocedure AS fn
        FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname IN ('cdr', 'analytics') AND p.proowner = loader
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', obj.fn, owner_name);
    END LOOP;
    FOR obj IN
        SELECT t.oid::regtype AS typ
        FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname IN ('cdr', 'analytics') AND t.typowner = loader
          AND (t.typtype IN ('d', 'e', 'r', 'm')
               OR (t.typtype = 'c' AND (SELECT relkind FROM pg_catalog.pg_class WHERE oid = t.typrelid) = 'c'))
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO %I', obj.typ, owner_name);
    END LOOP;
    FOR obj IN
        SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname IN ('cdr', 'analytics') AND nspowner = loader
    LOOP
        EXECUTE format('ALTER SCHEMA %I OWNER TO %I', obj.nspname, owner_name);
    END LOOP;
END
$owner$;

-- What the loader may do from now on: use schema cdr, read and write its data, nothing else.
GRANT USAGE ON SCHEMA cdr TO {{loader_role}};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA cdr TO {{loader_role}};
REVOKE INSERT, UPDATE, DELETE ON cdr.schema_migrations, cdr.settings, cdr.delivery_status_class
    FROM {{loader_role}};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA cdr TO {{loader_role}};

-- Objects the owner creates later (tables, month partitions, views) get the same privileges.
ALTER DEFAULT PRIVILEGES FOR ROLE {{owner_role}} IN SCHEMA cdr, analytics
    GRANT SELECT ON TABLES TO {{analyst_role}};
ALTER DEFAULT PRIVILEGES FOR ROLE {{owner_role}} IN SCHEMA cdr
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {{loader_role}};
ALTER DEFAULT PRIVILEGES FOR ROLE {{owner_role}} IN SCHEMA cdr
    GRANT USAGE, SELECT ON SEQUENCES TO {{loader_role}};
ALTER DEFAULT PRIVILEGES FOR ROLE {{owner_role}} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
-- The loader creates nothing any more: its own default privileges are dead entries.
ALTER DEFAULT PRIVILEGES FOR ROLE {{loader_role}} IN SCHEMA cdr, analytics
    REVOKE SELECT ON TABLES FROM {{analyst_role}};

-- Everything below is created by, and owned by, the owner.
SET LOCAL ROLE {{owner_role}};

-- Creates the missing monthly partitions (UTC calendar months, <table>_pYYYYMM) of ONE product table for the
-- months overlapping [p_from, p_to]. Only that table is locked (creating a partition takes an ACCESS
-- EXCLUSIVE lock on its parent until commit): loads of other products and analysts' reads of them never
-- wait. When every month exists, which is nearly always, no lock is taken at all. SECURITY DEFINER with a
-- fixed search_path: the loader may call it, partitions belong to the owner, nothing else is reachable.
CREATE FUNCTION cdr.ensure_product_partitions(p_table text, p_from timestamptz, p_to timestamptz)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    first_month timestamptz;
    last_month timestamptz;
    month_start timestamptz;
    partition_name text;
    missing text[] := '{}';
    created integer := 0;
BEGIN
    IF p_from IS NULL OR p_to IS NULL OR p_to < p_from THEN
        RAISE EXCEPTION 'ensure_product_partitions: invalid range [%, %]', p_from, p_to;
    END IF;
    IF p_to - p_from > interval '1100 days' THEN
        RAISE EXCEPTION 'ensure_product_partitions: [%, %] spans more than 36 months; refusing to create '
                        'that many partitions (is an event time wrong?)', p_from, p_to;
    END IF;
    IF NOT EXISTS (
        SELECT FROM pg_partitioned_table pt
        JOIN pg_class c ON c.oid = pt.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'cdr' AND c.relname = p_table
    ) THEN
        RAISE EXCEPTION 'ensure_product_partitions: cdr.% is not a partitioned product table', p_table
            USING ERRCODE = 'undefined_table';
    END IF;
    first_month := date_trunc('month', p_from, 'UTC');
    last_month := date_trunc('month', p_to, 'UTC');
    month_start := first_month;
    WHILE month_start <= last_month LOOP
        partition_name := p_table || '_p' || to_char(month_start AT TIME ZONE 'UTC', 'YYYYMM');
        IF to_regclass(format('cdr.%I', partition_name)) IS NULL THEN
            missing := missing || partition_name;
        END IF;
        month_start := (month_start AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC';
    END LOOP;
    IF cardinality(missing) = 0 THEN
        RETURN 0;
    END IF;
    -- serialise creators of this table only (two-key advisory locks: a space of their own)
    PERFORM pg_advisory_xact_lock(hashtext('cdr.ensure_product_partitions'), hashtext(p_table));
    month_start := first_month;
    WHILE month_start <= last_month LOOP
        partition_name := p_table || '_p' || to_char(month_start AT TIME ZONE 'UTC', 'YYYYMM');
        IF to_regclass(format('cdr.%I', partition_name)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE cdr.%I PARTITION OF cdr.%I FOR VALUES FROM (%L) TO (%L)',
                partition_name, p_table,
                month_start, (month_start AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC'
            );
            created := created + 1;
        END IF;
        month_start := (month_start AT TIME ZONE 'UTC' + interval '1 month') AT TIME ZONE 'UTC';
    END LOOP;
    RETURN created;
END
$fn$;
REVOKE ALL ON FUNCTION cdr.ensure_product_partitions(text, timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cdr.ensure_product_partitions(text, timestamptz, timestamptz) TO {{loader_role}};
COMMENT ON FUNCTION cdr.ensure_product_partitions(text, timestamptz, timestamptz) IS
    'Creates the missing monthly partitions of one product table (cdr.<p_table>) for the months overlapping '
    '[p_from, p_to]; returns how many it created. Locks only that table, and only when a month is missing.';

-- The all-tables variant (kept for maintenance and existing callers) now creates each table's partitions
-- through the per-table function.
CREATE OR REPLACE FUNCTION cdr.ensure_partitions(p_from timestamptz, p_to timestamptz) RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    parent record;
    created integer := 0;
BEGIN
    FOR parent IN
        SELECT c.relname
        FROM pg_partitioned_table pt
        JOIN pg_class c ON c.oid = pt.partrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'cdr'
        ORDER BY c.relname
    LOOP
        created := created + cdr.ensure_product_partitions(parent.relname, p_from, p_to);
    END LOOP;
    RETURN created;
END
$fn$;
REVOKE ALL ON FUNCTION cdr.ensure_partitions(timestamptz, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION cdr.ensure_partitions(timestamptz, timestamptz) TO {{loader_role}};
COMMENT ON FUNCTION cdr.ensure_partitions(timestamptz, timestamptz) IS
    'Creates missing monthly partitions of every product table for [p_from, p_to] (maintenance); loads use '
    'cdr.ensure_product_partitions, which locks only the table being loaded.';

-- Durable report identity: the request id of every async report is recorded here the moment Vonage accepts
-- it, before the task waits for it, so a retry or a re-run asks Vonage about that report instead of paying
-- for another one.
CREATE TABLE cdr.report_requests (
    request_id text PRIMARY KEY,
    fingerprint text NOT NULL,
    product text NOT NULL,
    account_id text NOT NULL,
    direction text NOT NULL DEFAULT '',
    date_start timestamptz NOT NULL,
    date_end timestamptz NOT NULL,
    request_params jsonb NOT NULL,
    found_by text NOT NULL CHECK (found_by IN ('created', 'listed')),
    receive_time timestamptz,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    dag_id text,
    run_id text,
    task_id text,
    try_number integer
);
CREATE INDEX report_requests_fingerprint_idx ON cdr.report_requests (fingerprint, recorded_at DESC);
COMMENT ON TABLE cdr.report_requests IS
    'Every Vonage async report the pipeline requested or adopted, recorded as soon as Vonage accepted it; '
    'retries and re-runs reuse these before creating (and paying for) a new report.';
COMMENT ON COLUMN cdr.report_requests.request_id IS 'Reports API request id of the report.';
COMMENT ON COLUMN cdr.report_requests.fingerprint IS
    'SHA-256 of the report parameters as sent (canonical JSON); equal parameters, equal fingerprint.';
COMMENT ON COLUMN cdr.report_requests.product IS 'Reports API product, e.g. SMS.';
COMMENT ON COLUMN cdr.report_requests.account_id IS 'Account (API key) reported on.';
COMMENT ON COLUMN cdr.report_requests.direction IS 'inbound/outbound, or empty.';
COMMENT ON COLUMN cdr.report_requests.date_start IS 'Start of the report window (inclusive).';
COMMENT ON COLUMN cdr.report_requests.date_end IS 'End of the report window (exclusive).';
COMMENT ON COLUMN cdr.report_requests.request_params IS 'The request body sent to Vonage (no credentials).';
COMMENT ON COLUMN cdr.report_requests.found_by IS
    'created: this pipeline created it; listed: found through the report list (an earlier create whose answer was lost).';
COMMENT ON COLUMN cdr.report_requests.receive_time IS 'When Vonage received the request (Vonage''s clock).';
COMMENT ON COLUMN cdr.report_requests.recorded_at IS 'When the pipeline recorded it.';
COMMENT ON COLUMN cdr.report_requests.dag_id IS 'Airflow DAG that requested it.';
COMMENT ON COLUMN cdr.report_requests.run_id IS 'Airflow DAG run.';
COMMENT ON COLUMN cdr.report_requests.task_id IS 'Airflow task.';
COMMENT ON COLUMN cdr.report_requests.try_number IS 'Airflow task try.';

-- migrate:run-as-connecting-user
-- Roles and schemas. This is the only migration that needs an administrator (a superuser, or a role with
-- CREATEROLE that is a member of the loader role): every later migration runs as the loader role, so the
-- loader owns every object and the pipelines can apply future migrations without a superuser.
-- {{loader_role}} / {{analyst_role}} are substituted by the runner as quoted identifiers,
-- {{loader_role_literal}} / {{analyst_role_literal}} as quoted string literals.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {{loader_role_literal}}) THEN
        CREATE ROLE {{loader_role}} NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = {{analyst_role_literal}}) THEN
        CREATE ROLE {{analyst_role}} NOLOGIN;
    END IF;
END
$roles$;

CREATE SCHEMA IF NOT EXISTS cdr AUTHORIZATION {{loader_role}};
CREATE SCHEMA IF NOT EXISTS analytics AUTHORIZATION {{loader_role}};
COMMENT ON SCHEMA cdr IS 'Vonage CDRs, one typed table per Reports API product, plus load bookkeeping.';
COMMENT ON SCHEMA analytics IS 'Views for analysts: cross-product CDRs, billing, reconciliation, monitoring.';

GRANT USAGE ON SCHEMA cdr, analytics TO {{analyst_role}};

-- Everything the loader creates later (tables, monthly partitions, views) is readable by analysts,
-- and nothing else: no write, no function execution.
ALTER DEFAULT PRIVILEGES FOR ROLE {{loader_role}} IN SCHEMA cdr, analytics
    GRANT SELECT ON TABLES TO {{analyst_role}};
ALTER DEFAULT PRIVILEGES FOR ROLE {{loader_role}} IN SCHEMA cdr, analytics
    REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

CREATE TABLE IF NOT EXISTS cdr.schema_migrations (
    version text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    applied_by text NOT NULL DEFAULT current_user
);
ALTER TABLE cdr.schema_migrations OWNER TO {{loader_role}};
GRANT SELECT ON cdr.schema_migrations TO {{analyst_role}};
COMMENT ON TABLE cdr.schema_migrations IS
    'Applied warehouse migrations (version, file name, SHA-256 of the file); written by the migration runner.';
COMMENT ON COLUMN cdr.schema_migrations.version IS 'Migration version (the file name''s NNNN prefix).';
COMMENT ON COLUMN cdr.schema_migrations.name IS 'Migration name (rest of the file name).';
COMMENT ON COLUMN cdr.schema_migrations.checksum IS 'SHA-256 of the file as applied; a changed file is refused.';
COMMENT ON COLUMN cdr.schema_migrations.applied_at IS 'When it was applied.';
COMMENT ON COLUMN cdr.schema_migrations.applied_by IS 'Role that applied it.';

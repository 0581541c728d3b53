"""Migrations: apply to an empty database, re-run safely, match the registry, keep partitions ahead."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from include.vonage_cdr.products import PRODUCTS
from include.vonage_cdr.warehouse import product_ddl
from include.vonage_cdr.warehouse.migrate import (
    MIGRATIONS_DIR,
    MigrationError,
    apply_migrations,
    discover,
)
from tests.fixtures.warehouse import MigratedWarehouse, WarehouseRoles

ROOT = Path(__file__).resolve().parents[2]
ALL_VERSIONS = [m.version for m in discover()]
TECHNICAL = [
    ("event_time", "timestamp with time zone"),
    ("extras", "jsonb"),
    ("_source", "text"),
    ("_load_id", "bigint"),
    ("_first_loaded_at", "timestamp with time zone"),
    ("_last_changed_at", "timestamp with time zone"),
    ("_row_hash", "bytea"),  # added by 0009
]
PG_TYPE = {
    "text": "text",
    "timestamptz": "timestamp with time zone",
    "integer": "integer",
    "bigint": "bigint",
    "numeric": "numeric",
    "boolean": "boolean",
}


def catalog_snapshot(dsn: str) -> dict[str, list[tuple]]:
    """Everything a migration could change: relations, columns, comments, privileges, functions, data."""
    queries = {
        "relations": """
            SELECT n.nspname, c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relacl::text
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('cdr', 'analytics') ORDER BY 1, 2""",
        "columns": """
            SELECT table_schema, table_name, column_name, data_type, column_default
            FROM information_schema.columns WHERE table_schema IN ('cdr', 'analytics') ORDER BY 1, 2, 3""",
        "comments": """
            SELECT c.relname, d.objsubid, d.description FROM pg_description d
            JOIN pg_class c ON c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname IN ('cdr', 'analytics') ORDER BY 1, 2""",
        "views": "SELECT viewname, definition FROM pg_views WHERE schemaname = 'analytics' ORDER BY 1",
        "functions": """
            SELECT p.proname, pg_get_functiondef(p.oid), p.proacl::text FROM pg_proc p
            JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'cdr' ORDER BY 1""",
        "default_acl": "SELECT defaclnamespace::regnamespace::text, defaclobjtype, defaclacl::text "
        "FROM pg_default_acl ORDER BY 1, 2",
        "migrations": "SELECT version, name, checksum, applied_at FROM cdr.schema_migrations ORDER BY 1",
        "settings": "SELECT * FROM cdr.settings ORDER BY 1",
    }
    with psycopg.connect(dsn) as conn:
        return {name: conn.execute(query).fetchall() for name, query in queries.items()}


def test_committed_generated_sql_matches_the_registry() -> None:
    for path, text in product_ddl.rendered_files().items():
        assert path.read_text() == text, f"{path.name} is stale: run python -m {product_ddl.__name__}"


def test_empty_database_gets_every_migration_and_a_second_run_changes_nothing(
    pg_dsn: str, warehouse_roles: WarehouseRoles
) -> None:
    roles = warehouse_roles.migrate_kwargs
    assert apply_migrations(pg_dsn, **roles) == ALL_VERSIONS
    before = catalog_snapshot(pg_dsn)
    assert apply_migrations(pg_dsn, **roles) == []
    assert catalog_snapshot(pg_dsn) == before
    owners = {owner for _, _, _, owner, _ in before["relations"]}
    assert owners == {warehouse_roles.owner}, "the owner role must own every warehouse object"


def test_migrated_tables_match_the_registry_column_for_column(migrated_warehouse: MigratedWarehouse) -> None:
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        for product in PRODUCTS.values():
            rows = conn.execute(
                """SELECT column_name, data_type FROM information_schema.columns
                   WHERE table_schema = 'cdr' AND table_name = %s ORDER BY ordinal_position""",
                (product.table,),
            ).fetchall()
            expected = [(c.name, PG_TYPE[c.type]) for c in product.columns] + TECHNICAL
            assert rows == expected, product.name
            key = conn.execute(
                """SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_index i
                   CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                   WHERE i.indrelid = %s::regclass AND i.indisprimary""",
                (f"cdr.{product.table}",),
            ).fetchone()
            assert key == ([product.record_id_column.name, "event_time"],)
            strategy = conn.execute(
                "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = %s::regclass",
                (f"cdr.{product.table}",),
            ).fetchone()
            assert strategy == ("r",)
        keywords = {
            word for (word,) in conn.execute("SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')")
        }
    for product in PRODUCTS.values():
        assert not keywords & set(product.column_names), product.name


def test_partitions_cover_13_months_back_to_2_ahead_and_new_months_get_theirs(
    migrated_warehouse: MigratedWarehouse,
) -> None:
    with psycopg.connect(migrated_warehouse.dsn, autocommit=True) as conn:
        months = [
            m
            for (m,) in conn.execute(
                """SELECT to_char(g AT TIME ZONE 'UTC', 'YYYYMM') FROM generate_series(
                       date_trunc('month', now(), 'UTC') - interval '13 months',
                       date_trunc('month', now(), 'UTC') + interval '2 months', interval '1 month') g"""
            )
        ]
        assert len(months) == 16
        existing = {
            name
            for (name,) in conn.execute(
                "SELECT relname FROM pg_class WHERE relname LIKE 'sms\\_p%' AND relkind = 'r'"
            )
        }
        assert existing == {f"sms_p{m}" for m in months}

        # As the loader (what the pipelines do): a month 5 months ahead gets a partition of the one
        # product table being loaded, and only of that one.
        conn.execute(f'SET ROLE "{migrated_warehouse.roles.loader}"')
        ahead = "(date_trunc('month', now(), 'UTC') + interval '5 months')"
        ensure = f"SELECT cdr.ensure_product_partitions('sms', {ahead}, {ahead} + interval '1 day')"
        assert conn.execute(ensure).fetchone() == (1,)
        assert conn.execute(ensure).fetchone() == (0,)
        others = conn.execute(
            "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname LIKE '%\\_p' || "
            f"to_char({ahead} AT TIME ZONE 'UTC', 'YYYYMM')"
        ).fetchone()
        assert others == (1,), "no other product table got a partition"
        # the maintenance variant covers every product table
        created = conn.execute(
            f"SELECT cdr.ensure_partitions({ahead}, {ahead} + interval '1 day')"
        ).fetchone()
        assert created == (len(PRODUCTS) - 1,)
        conn.execute(
            f"""INSERT INTO cdr.sms (id, account_id, event_time, _source, _load_id)
                VALUES ('m-ahead', 'acct0001', {ahead} + interval '3 days', 'sync', 1)"""
        )
        row = conn.execute("SELECT tableoid::regclass::text FROM cdr.sms WHERE id = 'm-ahead'").fetchone()
        month = conn.execute(f"SELECT to_char({ahead} AT TIME ZONE 'UTC', 'YYYYMM')").fetchone()
        assert month is not None
        assert row == (f"cdr.sms_p{month[0]}",)
        owner = conn.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = %s", (f"sms_p{month[0]}",)
        ).fetchone()
        assert owner == (migrated_warehouse.roles.owner,), "partitions belong to the owner, not the loader"


def test_a_changed_applied_migration_is_refused(
    pg_dsn: str, warehouse_roles: WarehouseRoles, tmp_path: Path
) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    roles = warehouse_roles.migrate_kwargs
    apply_migrations(pg_dsn, directory=directory, **roles)
    settings = directory / "0002_operations.sql"
    settings.write_text(settings.read_text().replace("'0.0004'", "'0.0005'"))
    with pytest.raises(MigrationError, match=r"0002_operations\.sql"):
        apply_migrations(pg_dsn, directory=directory, **roles)
    with psycopg.connect(pg_dsn) as conn:
        price = conn.execute(
            "SELECT value FROM cdr.settings WHERE name = 'reports_api_price_per_cdr'"
        ).fetchone()
    assert price == ("0.0004",)


def test_role_names_are_quoted_identifiers_never_raw_sql(pg_dsn: str) -> None:
    with pytest.raises(MigrationError, match="plain identifier"):
        apply_migrations(pg_dsn, loader_role='x"; DROP DATABASE postgres; --')
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT to_regclass('cdr.schema_migrations')").fetchone() == (None,)


def test_concurrent_runners_apply_each_migration_once(pg_dsn: str, warehouse_roles: WarehouseRoles) -> None:
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(apply_migrations(pg_dsn, **warehouse_roles.migrate_kwargs))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results, key=len) == [[], [], ALL_VERSIONS]
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM cdr.schema_migrations").fetchone() == (len(ALL_VERSIONS),)


def test_migrate_command_reads_the_warehouse_url_from_the_environment(
    pg_dsn: str, warehouse_roles: WarehouseRoles
) -> None:
    env = {
        **os.environ,
        "CDR_WAREHOUSE_URL": pg_dsn,
        "CDR_OWNER_ROLE": warehouse_roles.owner,
        "CDR_LOADER_ROLE": warehouse_roles.loader,
        "CDR_ANALYST_ROLE": warehouse_roles.analyst,
    }
    command = [sys.executable, "-m", "include.vonage_cdr.warehouse.migrate"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert f"applied: {', '.join(ALL_VERSIONS)}" in first.stdout
    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout

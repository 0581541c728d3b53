"""Message bodies and quarantined raw lines are private by default: analysts cannot read them, PII role can.

Checked the way an analyst would try: the column, SELECT *, the monthly partition directly (also one
created at run time, after the migrations), the views, and the column statistics.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from include.vonage_cdr.products import PRODUCTS
from include.vonage_cdr.warehouse import dictionary
from include.vonage_cdr.warehouse.migrate import MigrationError, apply_migrations, discover
from tests.fixtures.warehouse import MigratedWarehouse, WarehouseRoles

RESTRICTED = {
    ("sms", "message_body"),
    ("messages", "message_body"),
    ("quarantine", "raw_line"),
    ("quarantine", "raw_bytes"),
}
BODY = "Your code is 424242"


@contextmanager
def as_role(dsn: str, role: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        yield conn


def denied(conn: psycopg.Connection, query: sql.Composable | str) -> bool:
    try:
        conn.execute(query)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


@pytest.fixture
def warehouse_with_bodies(migrated_warehouse: MigratedWarehouse) -> tuple[MigratedWarehouse, str]:
    """An SMS with a body in a month whose partition the loader creates now, after the migrations."""
    dsn, roles = migrated_warehouse.dsn, migrated_warehouse.roles
    later = datetime.now(UTC).replace(day=1, hour=12, minute=0, second=0, microsecond=0) + timedelta(days=200)
    with as_role(dsn, roles.loader) as conn:  # what a load does for a month it has not seen yet
        created = conn.execute("SELECT cdr.ensure_partitions(%s, %s)", (later, later)).fetchone()
        assert created == (len(PRODUCTS),)
        conn.execute(
            """INSERT INTO cdr.sms (id, account_id, direction, message_body, concatenated, event_time,
                   _source, _load_id) VALUES ('s-late', 'acctA', 'outbound', %s, true, %s, 'async', 1)""",
            (BODY, later),
        )
        conn.execute(
            """INSERT INTO cdr.messages (id, account_id, direction, message_body, event_time, _source,
                   _load_id) VALUES ('m1', 'acctA', 'inbound', %s, now(), 'sync', 1)""",
            (BODY,),
        )
        conn.execute(
            """INSERT INTO cdr.load_ledger (load_id, product, account_id, mode, window_start, window_end,
                   rows_read, rows_loaded, rows_inserted, rows_updated, rows_unchanged, rows_quarantined,
                   cdrs_billed, started_at)
               VALUES (1, 'SMS', 'acctA', 'sync', now(), now(), 1, 0, 0, 0, 0, 1, 1, now())"""
        )
        conn.execute(
            """INSERT INTO cdr.quarantine (load_id, product, account_id, window_start, window_end, reason,
                   raw_line) VALUES (1, 'SMS', 'acctA', now(), now(), 'bad total_price', %s)""",
            (f'"acctA","x","{BODY}","not-a-number"',),
        )
    return migrated_warehouse, f"sms_p{later:%Y%m}"


def test_analyst_cannot_read_message_bodies_or_raw_lines_however_asked(
    warehouse_with_bodies: tuple[MigratedWarehouse, str],
) -> None:
    warehouse, late_partition = warehouse_with_bodies
    with as_role(warehouse.dsn, warehouse.roles.analyst) as conn:
        for table, column in sorted(RESTRICTED):
            assert denied(
                conn, sql.SQL("SELECT {} FROM cdr.{}").format(sql.Identifier(column), sql.Identifier(table))
            )
            assert denied(conn, sql.SQL("SELECT * FROM cdr.{}").format(sql.Identifier(table)))
        # the partition created at run time, and one created by the migrations: neither is readable directly
        assert denied(conn, sql.SQL("SELECT message_body FROM cdr.{}").format(sql.Identifier(late_partition)))
        assert denied(conn, sql.SQL("SELECT id FROM cdr.{}").format(sql.Identifier(late_partition)))
        assert denied(conn, f"SELECT id FROM cdr.sms_p{datetime.now(UTC):%Y%m}")
        # statistics do not leak the values either
        conn.execute("RESET ROLE")
        conn.execute("ANALYZE cdr.sms, cdr.messages, cdr.quarantine")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(warehouse.roles.analyst)))
        leaked = conn.execute(
            """SELECT tablename, attname FROM pg_stats WHERE schemaname = 'cdr'
               AND attname IN ('message_body', 'raw_line', 'raw_bytes')"""
        ).fetchall()
        assert leaked == []
        # ... while everything else still answers, through the table (the late partition's row included)
        assert conn.execute("SELECT id, concatenated FROM cdr.sms").fetchall() == [("s-late", True)]
        assert conn.execute("SELECT reason FROM cdr.quarantine").fetchall() == [("bad total_price",)]


def test_analyst_reads_every_column_that_is_not_restricted(migrated_warehouse: MigratedWarehouse) -> None:
    """Fails when a migration adds a column or a table without re-applying the analyst privileges."""
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        columns = conn.execute(
            """SELECT c.relname, array_agg(a.attname::text ORDER BY a.attnum)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
               WHERE n.nspname = 'cdr' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
               GROUP BY c.relname ORDER BY 1"""
        ).fetchall()
    assert {table for table, _ in columns} >= {p.table for p in PRODUCTS.values()} | {
        "quarantine",
        "load_ledger",
    }
    with as_role(migrated_warehouse.dsn, migrated_warehouse.roles.analyst) as conn:
        for table, names in columns:
            readable = [n for n in names if (table, n) not in RESTRICTED]
            conn.execute(
                sql.SQL("SELECT {} FROM cdr.{} LIMIT 1").format(
                    sql.SQL(", ").join(map(sql.Identifier, readable)), sql.Identifier(table)
                )
            )
        for view in conn.execute(
            "SELECT table_name FROM information_schema.views WHERE table_schema = 'analytics'"
        ).fetchall():
            conn.execute(sql.SQL("SELECT * FROM analytics.{} LIMIT 1").format(sql.Identifier(view[0])))


def test_pii_role_reads_bodies_and_raw_lines_including_a_partition_created_later(
    warehouse_with_bodies: tuple[MigratedWarehouse, str],
) -> None:
    warehouse, late_partition = warehouse_with_bodies
    with as_role(warehouse.dsn, warehouse.roles.analyst_pii) as conn:
        assert conn.execute("SELECT message_body FROM cdr.sms WHERE id = 's-late'").fetchone() == (BODY,)
        assert conn.execute("SELECT count(*) FROM cdr.sms").fetchone() == (1,)  # SELECT * works too
        conn.execute("SELECT * FROM cdr.sms")
        assert conn.execute("SELECT message_body FROM cdr.messages").fetchone() == (BODY,)
        assert BODY in conn.execute("SELECT raw_line FROM cdr.quarantine").fetchone()[0]
        # a member of the analyst role: the analyst's views and tables too, but still no direct partition
        assert conn.execute("SELECT count(*) FROM analytics.cdr").fetchone() == (2,)
        assert denied(conn, sql.SQL("SELECT id FROM cdr.{}").format(sql.Identifier(late_partition)))
        assert denied(conn, "INSERT INTO cdr.settings VALUES ('x', 'y', 'z')")


def test_no_view_exposes_a_restricted_column_and_the_catalogue_says_which_are_restricted(
    migrated_warehouse: MigratedWarehouse,
) -> None:
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        definitions = conn.execute(
            "SELECT viewname, definition FROM pg_views WHERE schemaname = 'analytics'"
        ).fetchall()
        listed = set(conn.execute("SELECT table_name, column_name FROM cdr.restricted_column").fetchall())
        defaults = conn.execute(
            """SELECT defaclacl::text FROM pg_default_acl
               WHERE defaclobjtype = 'r' AND defaclnamespace IN (0, 'cdr'::regnamespace)"""
        ).fetchall()
    for name, definition in definitions:
        assert not {"message_body", "raw_line", "raw_bytes"} & set(definition.split()), name
    assert listed == RESTRICTED == dictionary.restricted_columns_from_migrations()
    roles = migrated_warehouse.roles
    assert not [acl for (acl,) in defaults if roles.analyst in acl], "new tables in cdr must not be readable"


def test_a_column_added_later_becomes_readable_once_the_privileges_are_re_applied(
    migrated_warehouse: MigratedWarehouse,
) -> None:
    dsn, roles = migrated_warehouse.dsn, migrated_warehouse.roles
    with as_role(dsn, roles.owner) as conn:  # what a later migration does (migrations run as the owner)
        conn.execute("ALTER TABLE cdr.sms ADD COLUMN gateway_id text")
    with as_role(dsn, roles.analyst) as conn:
        assert denied(conn, "SELECT gateway_id FROM cdr.sms")  # fail closed until granted
    with as_role(dsn, roles.owner) as conn:
        conn.execute("SELECT cdr.apply_analyst_privileges(%s, %s)", (roles.analyst, roles.analyst_pii))
    with as_role(dsn, roles.analyst) as conn:
        conn.execute("SELECT gateway_id FROM cdr.sms")
        assert denied(conn, "SELECT message_body FROM cdr.sms")


def test_applying_0008_without_an_administrator_fails_with_a_clear_message(
    pg_dsn: str, warehouse_roles: WarehouseRoles, tmp_path: Path
) -> None:
    """The pipelines' login (a member of the loader role) cannot create the PII role: it says what to do."""
    roles = warehouse_roles.migrate_kwargs
    before = tmp_path / "released"
    before.mkdir()
    for migration in discover():
        if migration.version < "0008":
            shutil.copy(migration.path, before / migration.path.name)
    apply_migrations(pg_dsn, directory=before, **roles)  # the warehouse as it was before this migration
    login = f"etl_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'etl' IN ROLE {}").format(
                sql.Identifier(login), sql.Identifier(warehouse_roles.loader)
            )
        )
    try:
        as_login = make_conninfo(pg_dsn, user=login, password="etl")
        with pytest.raises(MigrationError, match="needs an administrator"):
            apply_migrations(as_login, **roles)
        later = [m.version for m in discover() if m.version >= "0008"]
        assert later[0] == "0008"
        assert apply_migrations(pg_dsn, **roles) == later  # an administrator applies it (and what follows)
        assert apply_migrations(as_login, **roles) == []  # then the pipelines carry on
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(login)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(login)))

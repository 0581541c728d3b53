"""Least privilege: the owner role owns everything, the runtime loader only reads and writes data.

Also: partitions are still created at run time (through the owner's SECURITY DEFINER function), only
the product table being loaded is locked, an existing deployment's objects are handed from the loader to
the owner, and a runtime login cannot apply migrations.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from include.vonage_cdr.normalize import normalize_records
from include.vonage_cdr.products import PRODUCTS, get_product
from include.vonage_cdr.warehouse.connect import SessionBounds, connect
from include.vonage_cdr.warehouse.load import LoadRequest, load_normalized
from include.vonage_cdr.warehouse.migrate import MIGRATIONS_DIR, MigrationError, apply_migrations
from tests.faked_clock import server_timers
from tests.fixtures.warehouse import MigratedWarehouse, WarehouseRoles

FAR_MONTH = datetime(2031, 3, 1, tzinfo=UTC)  # no migration creates partitions this far ahead
QUICK_LOCK = SessionBounds(lock_timeout=2.0)


def sms_records(n: int, when: datetime) -> list[dict[str, Any]]:
    return [
        {
            "account_id": "abcd1234",
            "id": f"m{i}",
            "message_id": f"m{i}",
            "date_received": (when + timedelta(minutes=i)).isoformat(),
            "direction": "outbound",
            "status": "delivered",
            "currency": "EUR",
            "total_price": "0.0333",
        }
        for i in range(n)
    ]


def load(dsn: str, tmp_path: Path, product: str, records: list[dict[str, Any]], when: datetime, **kw: Any):
    prod = get_product(product)
    result = normalize_records(records, prod, tmp_path / f"{product}-{when:%Y%m}.parquet", source_name="t")
    req = LoadRequest(
        product=prod,
        account_id="abcd1234",
        direction=None,
        mode="sync",
        window_start=when,
        window_end=when + timedelta(days=1),
        report_request_id=None,
        source_file="t",
        cdrs_billed=len(records),
        started_at=datetime.now(UTC),
    )
    return load_normalized(dsn, req, result, **kw)


def test_the_owner_owns_everything_and_the_loader_owns_nothing(migrated_warehouse: MigratedWarehouse) -> None:
    roles = migrated_warehouse.roles
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        owners = conn.execute(
            """SELECT DISTINCT pg_get_userbyid(owner) FROM (
                   SELECT nspowner AS owner FROM pg_namespace WHERE nspname IN ('cdr', 'analytics')
                   UNION ALL SELECT c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname IN ('cdr', 'analytics')
                   UNION ALL SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                             WHERE n.nspname IN ('cdr', 'analytics')) o"""
        ).fetchall()
        definer = conn.execute(
            "SELECT prosecdef, proconfig FROM pg_proc WHERE proname = 'ensure_product_partitions'"
        ).fetchone()
    assert owners == [(roles.owner,)]
    assert definer == (True, ["search_path=pg_catalog, pg_temp"])


def test_the_runtime_login_cannot_change_the_schema_or_grant(
    migrated_warehouse: MigratedWarehouse, loader_login: str
) -> None:
    roles = migrated_warehouse.roles
    forbidden = [
        "DROP TABLE cdr.sms",
        "DROP TABLE cdr.load_ledger",
        "DROP VIEW analytics.cdr",
        "DROP SCHEMA cdr CASCADE",
        "DROP FUNCTION cdr.ensure_product_partitions(text, timestamptz, timestamptz)",
        "ALTER TABLE cdr.sms ADD COLUMN x int",
        "ALTER TABLE cdr.load_ledger OWNER TO CURRENT_USER",
        "CREATE TABLE cdr.mine (x int)",
        "CREATE TABLE cdr.sms_p203101 PARTITION OF cdr.sms FOR VALUES FROM ('2031-01-01') TO ('2031-02-01')",
        "CREATE VIEW analytics.mine AS SELECT 1",
        "CREATE FUNCTION cdr.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
        f'GRANT "{roles.owner}" TO CURRENT_USER',
        "TRUNCATE cdr.sms",
        "INSERT INTO cdr.schema_migrations (version, name, checksum) VALUES ('9999', 'x', 'x')",
        "UPDATE cdr.settings SET value = '0'",
    ]
    acl = "SELECT array_agg(relacl::text ORDER BY oid) FROM pg_class WHERE relnamespace = 'cdr'::regnamespace"
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        before = conn.execute(acl).fetchone()
    with psycopg.connect(loader_login, autocommit=True) as conn:
        for statement in forbidden:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # without grant options PostgreSQL only warns on GRANT/REVOKE; nothing may change
        conn.execute(f'GRANT INSERT, DELETE ON cdr.sms, cdr.load_ledger TO "{roles.analyst}"')
        conn.execute(f'REVOKE SELECT ON cdr.sms FROM PUBLIC, "{roles.analyst}"')
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        assert conn.execute(acl).fetchone() == before, "the loader changed a privilege"
        may_write = conn.execute(
            "SELECT has_table_privilege(%s, 'cdr.sms', 'INSERT')", (roles.analyst,)
        ).fetchone()
    assert may_write == (False,)
    with psycopg.connect(loader_login, autocommit=True) as conn:
        # ... but it reads and writes data
        conn.execute(
            "INSERT INTO cdr.sms (id, account_id, event_time, _source, _load_id) "
            "VALUES ('x1', 'a', now(), 'sync', 1)"
        )
        conn.execute("UPDATE cdr.sms SET status = 'delivered' WHERE id = 'x1'")
        conn.execute("DELETE FROM cdr.sms WHERE id = 'x1'")
        assert conn.execute("SELECT count(*) FROM cdr.schema_migrations").fetchone()[0] > 0


def test_the_runtime_login_loads_and_partitions_get_created_readable_by_analysts_through_the_parent(
    migrated_warehouse: MigratedWarehouse, loader_login: str, tmp_path: Path
) -> None:
    roles = migrated_warehouse.roles
    loaded = load(loader_login, tmp_path, "SMS", sms_records(5, FAR_MONTH), FAR_MONTH)
    assert (loaded.rows_inserted, loaded.partitions_created) == (5, 1)
    with psycopg.connect(migrated_warehouse.dsn, autocommit=True) as conn:
        owner = conn.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'sms_p203103'"
        ).fetchone()
        others = conn.execute("SELECT count(*) FROM pg_class WHERE relname LIKE '%\\_p203103'").fetchone()
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.analyst)))
        through_parent = conn.execute(
            "SELECT count(*) FROM cdr.sms WHERE event_time >= %s", (FAR_MONTH,)
        ).fetchone()
    assert owner == (roles.owner,)
    assert others == (1,), "only the loaded product's table got a partition"
    # Analysts read a partition created at run time through its parent table: direct reads of partitions
    # are refused so that column privileges on message bodies cannot be bypassed (test_privacy.py).
    assert through_parent == (5,), "a partition created at run time is readable by analysts"


@server_timers
def test_partition_creation_locks_only_the_product_being_loaded(
    migrated_warehouse: MigratedWarehouse, loader_login: str, tmp_path: Path
) -> None:
    """Session A creates an SMS partition and keeps its transaction open; others must not wait on it."""
    roles = migrated_warehouse.roles
    holder = psycopg.connect(loader_login)  # one open transaction, like a load in progress
    try:
        created = holder.execute(
            "SELECT cdr.ensure_product_partitions('sms', %s, %s)", (FAR_MONTH, FAR_MONTH + timedelta(days=1))
        ).fetchone()
        assert created == (1,)
        # another product's load (partitions + data) goes through; lock_timeout makes a wait an error
        voice = [
            {
                "account_id": "abcd1234",
                "id": f"c{i}",
                "date_start": FAR_MONTH.isoformat(),
                "status": "completed",
                "currency": "EUR",
                "total_price": "0.01",
            }
            for i in range(3)
        ]
        with connect(loader_login, QUICK_LOCK, autocommit=True) as other:
            result = load(other, tmp_path, "VOICE-CALL", voice, FAR_MONTH)
        assert (result.rows_inserted, result.partitions_created) == (3, 1)
        # an analyst reads other products without waiting, and SMS only after the creator commits
        with connect(migrated_warehouse.dsn, QUICK_LOCK, autocommit=True) as analyst:
            analyst.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.analyst)))
            assert analyst.execute("SELECT count(*) FROM cdr.voice_call").fetchone() == (3,)
            assert analyst.execute("SELECT count(*) FROM cdr.messages").fetchone() == (0,)
            with pytest.raises(psycopg.errors.LockNotAvailable):  # proves the lock really was held
                analyst.execute("SELECT count(*) FROM cdr.sms")
    finally:
        holder.rollback()
        holder.close()


def test_the_old_all_tables_function_still_works_through_the_per_table_one(
    migrated_warehouse: MigratedWarehouse, loader_login: str
) -> None:
    with psycopg.connect(loader_login, autocommit=True) as conn:
        created = conn.execute(
            "SELECT cdr.ensure_partitions(%s, %s)", (FAR_MONTH, FAR_MONTH + timedelta(days=1))
        ).fetchone()
        with pytest.raises(psycopg.errors.RaiseException, match="36 months"):
            conn.execute("SELECT cdr.ensure_product_partitions('sms', now(), now() + interval '5 years')")
        with pytest.raises(psycopg.errors.UndefinedTable, match="not a partitioned product table"):
            conn.execute("SELECT cdr.ensure_product_partitions('load_ledger', now(), now())")
    assert created == (len(PRODUCTS),)


def test_an_existing_deployment_hands_its_objects_from_the_loader_to_the_owner(
    pg_dsn: str, warehouse_roles: WarehouseRoles, tmp_path: Path
) -> None:
    """A warehouse migrated by the released 0001-0005 (the loader owned it all) gets 0006 like any other."""
    released = tmp_path / "released"
    released.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("000[1-5]_*.sql")):
        shutil.copy(path, released / path.name)
    roles = warehouse_roles
    apply_migrations(pg_dsn, directory=released, **roles.migrate_kwargs)
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.loader)))
        conn.execute(
            "INSERT INTO cdr.sms (id, account_id, event_time, _source, _load_id) "
            "VALUES ('old', 'a', now(), 'async', 1)"
        )
        conn.execute("RESET ROLE")
        before = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('cdr', 'analytics') AND pg_get_userbyid(c.relowner) = %s",
            (roles.loader,),
        ).fetchone()[0]
    assert before > 100  # the loader owned the tables, partitions, indexes, views

    assert apply_migrations(pg_dsn, **roles.migrate_kwargs)[0] == "0006"
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        left = conn.execute(
            """SELECT count(*) FROM (
                   SELECT nspowner AS o FROM pg_namespace WHERE nspname IN ('cdr', 'analytics')
                   UNION ALL SELECT c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname IN ('cdr', 'analytics')
                   UNION ALL SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                             WHERE n.nspname IN ('cdr', 'analytics')
                   UNION ALL SELECT t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                             WHERE n.nspname IN ('cdr', 'analytics')) x
               WHERE pg_get_userbyid(o) = %s""",
            (roles.loader,),
        ).fetchone()
        assert left == (0,)
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.analyst)))
        assert conn.execute("SELECT id FROM cdr.sms").fetchall() == [("old",)]  # data kept, still readable
        conn.execute("RESET ROLE")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.loader)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DROP TABLE cdr.sms")


def test_a_runtime_login_cannot_apply_migrations_and_says_who_can(
    pg_dsn: str, warehouse_roles: WarehouseRoles, loader_login: str
) -> None:
    with pytest.raises(MigrationError, match="administrator") as info:
        apply_migrations(loader_login, **warehouse_roles.migrate_kwargs)
    assert "make migrate" in str(info.value) and "CDR_WAREHOUSE_ADMIN_CONN_ID" in str(info.value)
    with psycopg.connect(pg_dsn) as conn:  # nothing was applied
        assert conn.execute("SELECT to_regclass('cdr.schema_migrations')").fetchone() == (None,)
    # once an administrator has migrated, the runtime login only confirms nothing is pending
    apply_migrations(pg_dsn, **warehouse_roles.migrate_kwargs)
    assert apply_migrations(loader_login, **warehouse_roles.migrate_kwargs) == []

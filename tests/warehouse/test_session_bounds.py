"""Every warehouse wait is bounded: connect, statement, lock and idle-in-transaction timeouts, keepalives.

Small bounds (1-2 s) make each test quick; the assertions are about the outcome (a clear error instead of a
wait without end), never about sub-second timing.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from include.vonage_cdr.settings import Settings
from include.vonage_cdr.warehouse.connect import (
    SessionBounds,
    WarehouseTimeout,
    bounded_conninfo,
    connect,
    explained_timeouts,
)
from tests.faked_clock import server_timers
from tests.fixtures.warehouse import MigratedWarehouse
from tests.warehouse.test_least_privilege import load, sms_records

WHEN = datetime(2026, 11, 20, tzinfo=UTC)


def test_settings_reach_the_session(pg_dsn: str) -> None:
    settings = Settings.from_env(
        {
            "CDR_DB_STATEMENT_TIMEOUT_SECONDS": "90",
            "CDR_DB_LOCK_TIMEOUT_SECONDS": "7.5",
            "CDR_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS": "120",
            "CDR_DB_CONNECT_TIMEOUT_SECONDS": "4",
            "CDR_DB_KEEPALIVES_IDLE_SECONDS": "20",
            "CDR_DB_KEEPALIVES_INTERVAL_SECONDS": "5",
            "CDR_DB_KEEPALIVES_COUNT": "4",
        }
    )
    with connect(pg_dsn, settings.warehouse_session_bounds()) as conn:
        shown = [conn.execute(f"SHOW {name}").fetchone()[0] for name in
                 ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")]  # fmt: skip
        params = conn.info.get_parameters()
        sock = socket.socket(fileno=conn.fileno())
        try:
            keepalive = sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
            idle = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
            interval = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL)
            count = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)
        finally:
            sock.detach()  # the socket belongs to libpq
    assert shown == ["90s", "7500ms", "2min"]
    assert params["connect_timeout"] == "4"
    # the kernel probes a silent peer: a vanished server or a cut network ends the session
    assert (keepalive != 0, idle, interval, count) == (True, 20, 5, 4)


def test_values_in_the_connection_win_over_the_defaults() -> None:
    dsn = bounded_conninfo(
        "host=db dbname=cdr connect_timeout=3 options='-c lock_timeout=9s'", SessionBounds()
    )
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    assert params["connect_timeout"] == "3"
    assert params["options"].endswith("-c lock_timeout=9s")  # after ours: PostgreSQL keeps the last one
    assert "-c statement_timeout=1800000" in params["options"]


@server_timers
def test_a_lock_held_by_another_session_fails_the_load_after_lock_timeout(
    migrated_warehouse: MigratedWarehouse, tmp_path: Path
) -> None:
    """The incident: a frozen session held a lock and a load waited without end, holding a pool slot."""
    dsn = migrated_warehouse.dsn
    bounds = SessionBounds(lock_timeout=1.0)
    blocker = psycopg.connect(dsn)
    try:
        blocker.execute("LOCK TABLE cdr.sms IN ACCESS EXCLUSIVE MODE")  # and then it sits idle
        started = time.monotonic()
        with (
            pytest.raises(WarehouseTimeout, match="CDR_DB_LOCK_TIMEOUT_SECONDS") as info,
            explained_timeouts(bounds),
            connect(dsn, bounds, autocommit=True) as conn,
        ):
            load(conn, tmp_path, "SMS", sms_records(3, WHEN), WHEN)
        assert time.monotonic() - started < 30
        assert "pg_locks" in str(info.value) and "lock timeout" in str(info.value)
    finally:
        blocker.rollback()
        blocker.close()
    with psycopg.connect(dsn) as conn:  # the failed load left nothing behind
        assert conn.execute("SELECT count(*) FROM cdr.load_ledger").fetchone() == (0,)


@server_timers
def test_a_statement_longer_than_statement_timeout_is_cancelled(pg_dsn: str) -> None:
    bounds = SessionBounds(statement_timeout=1.0)
    with (
        pytest.raises(WarehouseTimeout, match="CDR_DB_STATEMENT_TIMEOUT_SECONDS"),
        explained_timeouts(bounds),
        connect(pg_dsn, bounds) as conn,
    ):
        conn.execute("SELECT pg_sleep(30)")


@server_timers
def test_a_session_idle_inside_a_transaction_is_ended_by_the_server(pg_dsn: str) -> None:
    bounds = SessionBounds(idle_in_transaction_session_timeout=1.0)
    with (
        pytest.raises(WarehouseTimeout, match="CDR_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS"),
        explained_timeouts(bounds),
        connect(pg_dsn, bounds) as conn,
    ):
        conn.execute("SELECT 1")  # opens the transaction
        time.sleep(3)  # the worker hangs while its transaction (and its locks) are open
        conn.execute("SELECT 1")


def test_a_server_that_never_answers_fails_the_connection_after_connect_timeout() -> None:
    """A listening socket that accepts and then says nothing, like a frozen server."""
    silent = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True)
    thread.start()
    bounds = SessionBounds(connect_timeout=2.0)
    started = time.monotonic()
    try:
        with (
            pytest.raises(WarehouseTimeout, match="CDR_DB_CONNECT_TIMEOUT_SECONDS"),
            explained_timeouts(bounds),
        ):
            connect(f"host=127.0.0.1 port={silent.getsockname()[1]} dbname=x user=x", bounds).close()
    finally:
        for s in accepted:
            s.close()
        silent.close()
        thread.join(5)
    assert time.monotonic() - started < 30


def test_zero_and_negative_bounds_are_refused_when_read() -> None:
    from include.vonage_cdr.settings import SettingsError

    for name in (
        "CDR_DB_LOCK_TIMEOUT_SECONDS",
        "CDR_DB_STATEMENT_TIMEOUT_SECONDS",
        "CDR_DB_CONNECT_TIMEOUT_SECONDS",
        "CDR_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS",
        "CDR_TASK_TIMEOUT_MINUTES",
        "CDR_SYNC_TASK_TIMEOUT_MINUTES",
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({name: "0"})
    assert Settings.from_env({}).task_execution_timeout == timedelta(hours=2)

"""Neither the Vonage API secret nor the warehouse password ends up in anything a pipeline run writes.

A short soak (both DAGs, injected faults so errors are logged, rows quarantined, a load killed mid-COPY)
runs with a distinctive API secret and a warehouse login whose password the server enforces. Then every
byte it left is searched: every file of its state (task and run logs, the Airflow home with its SQLite
metadata, the Parquet lake and its quarantine files, work and simulator folders), every row of every
metadata table (XComs, rendered template fields, task instances, DAG run conf, trigger kwargs ...), and
every row of every warehouse table (the ledger, the quarantine, the product tables ...).
"""

from __future__ import annotations

import base64
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from include.devtools.local_postgres import LocalPostgres
from tests.soak.test_soak_ci import run_soak

API_KEY = "abcd1234"
METADATA_TABLES = ("xcom", "rendered_task_instance_fields", "task_instance", "dag_run")


@pytest.fixture
def password_server() -> Iterator[LocalPostgres]:
    """A server of this test's own where every role but the superuser must give its password."""
    server = LocalPostgres().start()
    try:
        server.require_passwords()
        yield server
    finally:
        server.stop()


def _forms(value: str, user: str) -> list[bytes]:
    """The value as it could appear: plain, URL-quoted, and inside a Basic auth header (base64)."""
    basic = base64.b64encode(f"{user}:{value}".encode()).decode()
    return sorted({value.encode(), quote(value, safe="").encode(), basic.encode()})


def _file_hits(root: Path, needles: list[bytes]) -> tuple[int, list[str]]:
    files, hits = 0, []
    for path in root.rglob("*"):
        if path.is_file():
            files += 1
            data = path.read_bytes()
            hits += [f"{path.relative_to(root)}: {n!r}" for n in needles if n in data]
    return files, hits


def _metadata_hits(db: Path, needles: list[bytes]) -> tuple[dict[str, int], list[str]]:
    rows: dict[str, int] = {}
    hits: list[str] = []
    with sqlite3.connect(db) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            count = 0
            for row in conn.execute(f'SELECT * FROM "{table}"'):  # names come from sqlite_master
                count += 1
                text = b"|".join(v if isinstance(v, bytes) else str(v).encode() for v in row)
                hits += [f"metadata {table}: {n!r}" for n in needles if n in text]
            rows[table] = count
    return rows, hits


def _warehouse_hits(dsn: str, needles: list[bytes]) -> tuple[dict[str, int], list[str]]:
    rows: dict[str, int] = {}
    hits: list[str] = []
    with psycopg.connect(dsn) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname IN ('cdr', 'analytics')"
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL("SELECT t::text FROM {} t").format(sql.Identifier(schema, table))
            count = 0
            for (text,) in conn.execute(query):
                count += 1
                hits += [f"warehouse {schema}.{table}: {n!r}" for n in needles if n in text.encode()]
            rows[f"{schema}.{table}"] = count
    return rows, hits


def test_no_secret_or_password_in_logs_metadata_lake_or_warehouse(
    password_server: LocalPostgres, tmp_path: Path
) -> None:
    api_secret = f"VonSecret{secrets.token_hex(10)}"
    password = f"WhPassword{secrets.token_hex(10)}"
    state = tmp_path / "state"
    code, out, summary = run_soak(
        [
            "--seed", "3", "--days", "1", "--products", "SMS,VOICE-CALL", "--records-per-day", "120",
            "--paged-records-per-day", "2500", "--sync-every-hours", "12", "--fault-scale", "2",
            "--rate", "malformed_row_rate=1", "--repair-rounds", "0", "--time-limit-minutes", "10",
            "--state-dir", str(state), "--database-url", password_server.dsn, "--keep-warehouse",
        ],
        tmp_path,
        env={"CDR_SOAK_API_SECRET": api_secret, "CDR_SOAK_WAREHOUSE_PASSWORD": password},
    )  # fmt: skip
    assert summary.get("warehouse"), f"the soak did not finish (exit {code})"
    warehouse = summary["warehouse"]
    login = warehouse["roles"][0]
    assert summary["records"] > 0 and summary["dag_runs"]["vonage_cdr_daily"] >= 1
    # The password is really used: the server refuses the login without it and accepts it with it.
    params = conninfo_to_dict(warehouse["dsn"])
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(make_conninfo(**{**params, "user": login, "password": "wrong"})).close()
    psycopg.connect(make_conninfo(**{**params, "user": login, "password": password})).close()

    needles = _forms(api_secret, API_KEY) + _forms(password, login)
    files, file_hits = _file_hits(state, needles)
    metadata_rows, metadata_hits = _metadata_hits(state / "airflow" / "airflow.db", needles)
    warehouse_rows, warehouse_hits = _warehouse_hits(warehouse["dsn"], needles)

    # The scan looked at real content: logs, metadata with XComs and rendered fields, ledger, quarantine.
    assert (state / "soak.log").stat().st_size > 100_000 and files > 10
    assert API_KEY.encode() in (state / "soak.log").read_bytes(), "the logs name the account: they were kept"
    assert all(metadata_rows.get(t, 0) > 0 for t in METADATA_TABLES), metadata_rows
    assert warehouse_rows["cdr.load_ledger"] > 0 and warehouse_rows["cdr.sms"] > 0
    assert warehouse_rows["cdr.quarantine"] > 0, "malformed rows were quarantined"
    assert list((state / "lake").rglob("*.parquet"))
    output_hits = [f"soak output: {n!r}" for n in needles if n in out.encode()]
    assert file_hits + metadata_hits + warehouse_hits + output_hits == []

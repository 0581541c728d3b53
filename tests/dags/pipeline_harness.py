"""Helpers for end-to-end DAG tests: point the DAGs at a simulator and a warehouse, compare with truth.

The expected values are derived from the simulator's ground truth (strings, as Vonage sends them)
with a conversion written independently of the pipeline's normalizer, so the comparison can fail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from include.devtools.airflow_local import connection_env
from include.simulator import Simulator
from include.vonage_cdr.products import Product, get_product

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PipelineEnv:
    sim: Simulator
    dsn: str
    lake_root: Path


def configure_pipeline(
    monkeypatch: pytest.MonkeyPatch,
    sim: Simulator,
    dsn: str,
    tmp_path: Path,
    roles: Any,
    *,
    products: str,
    accounts: str | None = None,
    extra_env: Mapping[str, str] | None = None,
) -> PipelineEnv:
    """Set the Airflow connections and CDR_* settings the DAGs read, for this test only."""
    for key, value in connection_env(sim.base_url, sim.api_key, sim.api_secret, dsn).items():
        monkeypatch.setenv(key, value)
    env = {
        "CDR_PRODUCTS": products,
        "CDR_LAKE_ROOT": str(tmp_path / "lake"),
        "CDR_WORK_DIR": str(tmp_path / "work"),
        "CDR_REPORT_DIR": str(tmp_path / "reports"),
        "CDR_REPORT_POLL_SECONDS": "0.5",
        "CDR_REPORT_INITIAL_DELAY_SECONDS": "0.5",
        "CDR_SETTLEMENT_DELAY_HOURS": "0",
        "CDR_TASK_RETRIES": "1",
        "CDR_RETRY_DELAY_SECONDS": "1",
        "CDR_OWNER_ROLE": roles.owner,
        "CDR_LOADER_ROLE": roles.loader,
        "CDR_ANALYST_ROLE": roles.analyst,
        **({"CDR_ACCOUNTS": accounts} if accounts else {}),
        **(extra_env or {}),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return PipelineEnv(sim=sim, dsn=dsn, lake_root=tmp_path / "lake")


def load_dag(file_name: str):
    """Parse a DAG file now (its settings are read from the environment at parse time)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags" / file_name))
    assert bag.import_errors == {}, bag.import_errors
    (dag,) = bag.dags.values()
    return dag


def _expected_value(raw: str | None, column_type: str) -> Any:
    if raw is None or raw == "":
        return None
    if column_type == "timestamptz":
        text = raw.replace("Z", "+00:00")
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = f"{text[:-2]}:{text[-2:]}"
        return datetime.fromisoformat(text)
    if column_type == "numeric":
        return Decimal(raw)
    if column_type in ("integer", "bigint"):
        return int(raw)
    if column_type == "boolean":
        return {"true": True, "false": False}[raw.lower()]
    return raw


def expected_rows(product: Product, truth: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """Ground-truth records as the typed rows the warehouse must hold, keyed by record id."""
    rows: dict[str, dict[str, Any]] = {}
    known = {c.source for c in product.columns}
    for rec in truth:
        row = {c.name: _expected_value(rec.get(c.source), c.type) for c in product.columns}
        row["extras"] = {k: v for k, v in rec.items() if k not in known and v not in ("", None)}
        rows[rec[product.record_id]] = row
    return rows


def warehouse_rows(dsn: str, product: Product, account_id: str, day_start: datetime, day_end: datetime):
    cols = [c.name for c in product.columns]
    query = sql.SQL(
        "SELECT {}, extras FROM {} WHERE account_id = %s AND event_time >= %s AND event_time < %s"
    ).format(sql.SQL(", ").join(sql.Identifier(c) for c in cols), sql.Identifier("cdr", product.table))
    with psycopg.connect(dsn) as conn:
        out: dict[str, dict[str, Any]] = {}
        for rec in conn.execute(query, (account_id, day_start, day_end)).fetchall():
            row = dict(zip([*cols, "extras"], rec, strict=True))
            row["extras"] = {k: v for k, v in (row["extras"] or {}).items() if v not in ("", None)}
            out[row[product.record_id_column.name]] = row
        return out


def iter_products(names: str) -> Iterator[Product]:
    for name in names.split(","):
        yield get_product(name)


def table_snapshot(dsn: str, table: str) -> list[tuple]:
    """Every row of a table, meta columns included, in a stable order."""
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            sql.SQL("SELECT * FROM {} ORDER BY 1, event_time").format(sql.Identifier("cdr", table))
        ).fetchall()

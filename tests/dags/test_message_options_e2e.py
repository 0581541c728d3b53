"""With CDR_INCLUDE_MESSAGE and CDR_SHOW_CONCATENATED on, bodies and concatenation flags land (daily DAG and
incremental load alike), only the PII analyst role reads them, and the daily run ends with the report."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from include.simulator import Simulator
from include.simulator.generate import project
from include.simulator.products import PRODUCTS as SIM_PRODUCTS
from include.vonage_cdr.client import ReportsClient
from include.vonage_cdr.incremental import SyncPartition, sync_partition
from include.vonage_cdr.settings import Settings
from tests.dags.pipeline_harness import configure_pipeline
from tests.dags.test_daily_e2e import _run_day

DAY = date(2026, 11, 15)
ON = {"CDR_INCLUDE_MESSAGE": "true", "CDR_SHOW_CONCATENATED": "true"}


def served(sim: Simulator, product: str, start: datetime, end: datetime, direction: str) -> dict[str, dict]:
    """The records as Vonage sends them with include_message and show_concatenated, by id."""
    return {
        rec["id"]: project(rec, SIM_PRODUCTS[product], True, True)
        for _, rec in sim.model.iter_window(
            sim.api_key,
            product,
            start.timestamp(),
            end.timestamp(),
            as_of=sim.clock.now(),
            direction=direction,
        )
    }


def stored(dsn: str, table: str, start: datetime, end: datetime) -> dict[str, tuple]:
    query = sql.SQL(
        "SELECT id, message_body, {} FROM cdr.{} WHERE event_time >= %s AND event_time < %s"
    ).format(sql.SQL("concatenated" if table == "sms" else "NULL::boolean"), sql.Identifier(table))
    with psycopg.connect(dsn) as conn:
        return {row[0]: row[1:] for row in conn.execute(query, (start, end)).fetchall()}


def expected(records: dict[str, dict]) -> dict[str, tuple]:
    flags = {"TRUE": True, "FALSE": False}
    return {i: (r["message_body"] or None, flags.get(r.get("concatenated", ""))) for i, r in records.items()}


@pytest.mark.usefixtures("airflow_db")
def test_daily_run_brings_bodies_and_flags_keeps_them_private_and_renders_the_report(
    simulator: Simulator, pg_dsn: str, warehouse_roles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_pipeline(
        monkeypatch, simulator, pg_dsn, tmp_path, warehouse_roles, products="SMS,MESSAGES", extra_env=ON
    )
    _run_day(DAY)
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    end = start + timedelta(days=1)

    sms_out = served(simulator, "SMS", start, end, "outbound")
    sms_in = served(simulator, "SMS", start, end, "inbound")
    assert any(r["concatenated"] == "TRUE" for r in sms_out.values()), (
        "no multi-part SMS: the test proves little"
    )
    assert stored(pg_dsn, "sms", start, end) == expected(sms_out) | expected(sms_in)
    assert all(flag is None for _, flag in expected(sms_in).values())  # inbound SMS carry no flag
    messages = served(simulator, "MESSAGES", start, end, "outbound") | served(
        simulator, "MESSAGES", start, end, "inbound"
    )
    assert {i: body for i, (body, _) in stored(pg_dsn, "messages", start, end).items()} == {
        i: body for i, (body, _) in expected(messages).items()
    }
    asked = [(r.get("product"), r.get("direction"), r.get("include_message"), r.get("show_concatenated"))
             for r in simulator.reports_created]  # fmt: skip
    assert ("SMS", "outbound", True, True) in asked and ("SMS", "inbound", True, None) in asked

    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(warehouse_roles.analyst)))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT message_body FROM cdr.sms")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(warehouse_roles.analyst_pii)))
        bodies = conn.execute("SELECT count(message_body) FROM cdr.sms").fetchone()
        with_text = [r for r in (sms_out | sms_in).values() if r["message_body"]]
        assert bodies == (len(with_text),) and with_text

    report = tmp_path / "reports" / "usage-report.html"
    assert report.exists() and "Delivery rate" in report.read_text(encoding="utf-8")


def test_incremental_load_brings_bodies_and_flags_too(
    simulator: Simulator, migrated_warehouse, tmp_path: Path
) -> None:
    dsn = migrated_warehouse.dsn
    settings = Settings(
        include_message=True, show_concatenated=True, sync_initial_lookback=timedelta(hours=6)
    )
    client = ReportsClient(simulator.base_url, simulator.api_key, simulator.api_secret)
    try:
        now = client.server_time()
        part = SyncPartition("SMS", simulator.api_key, "outbound")
        summary = sync_partition(client, dsn, part, now=now, settings=settings, work_dir=tmp_path)
    finally:
        client.close()
    assert summary["rows_read"] > 0
    end = now - settings.sync_safety_margin
    start = end - settings.sync_initial_lookback
    truth = served(simulator, "SMS", start, end, "outbound")
    rows = stored(dsn, "sms", start, end)
    assert rows and set(rows) <= set(truth)
    assert rows == {i: v for i, v in expected(truth).items() if i in rows}
    assert any(body for body, _ in rows.values()) and all(flag is not None for _, flag in rows.values())

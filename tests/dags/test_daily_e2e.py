"""The daily DAG end to end: simulator over real HTTP, real PostgreSQL, a real Airflow run (dag.test)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from include.simulator import Simulator
from include.vonage_cdr.planning import directions_for
from include.vonage_cdr.settings import DEFAULT_PRODUCTS
from tests.dags.pipeline_harness import (
    configure_pipeline,
    expected_rows,
    iter_products,
    load_dag,
    table_snapshot,
    warehouse_rows,
)

PRODUCTS = ",".join(DEFAULT_PRODUCTS)
SETTLED_DAY = date(2026, 11, 15)  # the simulator's clock starts 2026-11-20T06:00Z: > 72 h old
FRESH_DAY = date(2026, 11, 19)  # statuses and prices of SMS/MESSAGES/VERIFY still change


def _run_day(day: date):
    dag = load_dag("vonage_cdr_daily.py")
    run = dag.test(
        logical_date=datetime.combine(day, datetime.min.time(), tzinfo=UTC), run_conf={"day": day.isoformat()}
    )
    assert str(getattr(run.state, "value", run.state)) == "success", f"daily run for {day} ended {run.state}"
    return run


def _report_times(sim: Simulator) -> dict[str, datetime]:
    from include.vonage_cdr.client.timestamps import parse_vonage_timestamp

    return {r["request_id"]: parse_vonage_timestamp(r["receive_time"]) for r in sim.reports_created}


def _assert_warehouse_equals_truth(sim: Simulator, dsn: str, day: date, products: str) -> int:
    """Compare every product's rows for the day with the simulator, as of each report's creation."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    times = _report_times(sim)
    compared = 0
    with psycopg.connect(dsn) as conn:
        ledger = conn.execute(
            # The latest load per partition, and what its report was billed over every load of it (a report
            # loaded again is billed once: the later loads record 0).
            "SELECT DISTINCT ON (product, direction) product, direction, report_request_id, rows_read, "
            "rows_quarantined, (SELECT sum(b.cdrs_billed) FROM cdr.load_ledger AS b "
            "WHERE b.report_request_id = l.report_request_id) "
            "FROM cdr.load_ledger AS l WHERE window_start = %s AND mode = 'async' "
            "ORDER BY product, direction, load_id DESC",
            (start,),
        ).fetchall()
    latest = {(p, d): (rid, read, quarantined, billed) for p, d, rid, read, quarantined, billed in ledger}
    for product in iter_products(products):
        expected: dict = {}
        for direction in directions_for(product):
            rid, read, quarantined, billed = latest[(product.name, direction or "")]
            truth = sim.ground_truth(sim.api_key, product.name, day, direction=direction, as_of=times[rid])
            assert read == len(truth) == billed, (product.name, direction, read, len(truth), billed)
            assert quarantined == 0
            expected.update(expected_rows(product, truth))
        actual = warehouse_rows(dsn, product, sim.api_key, start, start + timedelta(days=1))
        assert expected, f"the simulator has no {product.name} records for {day}: the test proves nothing"
        assert actual.keys() == expected.keys(), product.name
        for record_id, row in expected.items():
            assert actual[record_id] == row, (product.name, record_id)
        compared += len(expected)
    return compared


@pytest.mark.usefixtures("airflow_db")
def test_daily_run_equals_ground_truth_and_a_rerun_changes_nothing(
    simulator: Simulator, pg_dsn: str, warehouse_roles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = configure_pipeline(monkeypatch, simulator, pg_dsn, tmp_path, warehouse_roles, products=PRODUCTS)
    _run_day(SETTLED_DAY)
    compared = _assert_warehouse_equals_truth(simulator, pg_dsn, SETTLED_DAY, PRODUCTS)
    assert compared > 0
    lake_files = sorted(env.lake_root.rglob("*.parquet"))
    assert {p.parent.name for p in lake_files} == {f"date={SETTLED_DAY.isoformat()}"}
    assert {p.parent.parent.name for p in lake_files} >= {f"product={p}" for p in DEFAULT_PRODUCTS}

    tables = [p.table for p in iter_products(PRODUCTS)]
    before = {t: table_snapshot(pg_dsn, t) for t in tables}
    with psycopg.connect(pg_dsn) as conn:
        last_load_id = conn.execute("SELECT max(load_id) FROM cdr.load_ledger").fetchone()[0]
    _run_day(SETTLED_DAY)
    assert {t: table_snapshot(pg_dsn, t) for t in tables} == before
    assert sorted(p.name for p in env.lake_root.rglob("*.parquet")) == sorted(p.name for p in lake_files)
    with psycopg.connect(pg_dsn) as conn:
        second = conn.execute(
            "SELECT sum(rows_inserted), sum(rows_updated), sum(rows_unchanged) FROM cdr.load_ledger "
            "WHERE load_id > %s",
            (last_load_id,),
        ).fetchone()
    assert second[0] == 0 and second[1] == 0 and second[2] == compared


@pytest.mark.usefixtures("airflow_db")
def test_a_reload_after_late_updates_brings_the_changed_values_in(
    simulator: Simulator, pg_dsn: str, warehouse_roles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    products = "SMS,MESSAGES,VERIFY-API"
    configure_pipeline(monkeypatch, simulator, pg_dsn, tmp_path, warehouse_roles, products=products)
    _run_day(FRESH_DAY)
    _assert_warehouse_equals_truth(simulator, pg_dsn, FRESH_DAY, products)
    simulator.clock.advance(timedelta(days=3, hours=1))
    _run_day(FRESH_DAY)
    _assert_warehouse_equals_truth(simulator, pg_dsn, FRESH_DAY, products)
    with psycopg.connect(pg_dsn) as conn:
        updated = conn.execute("SELECT sum(rows_updated) FROM cdr.load_ledger").fetchone()[0]
    assert updated > 0, "settling statuses and prices should have updated some rows"


@pytest.mark.slow
@pytest.mark.usefixtures("airflow_db")
def test_every_other_product_of_the_api_loads_equal_to_ground_truth(
    simulator: Simulator, pg_dsn: str, warehouse_roles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from include.vonage_cdr.products import PRODUCTS

    others = ",".join(sorted(set(PRODUCTS) - set(DEFAULT_PRODUCTS)))
    configure_pipeline(monkeypatch, simulator, pg_dsn, tmp_path, warehouse_roles, products=others)
    _run_day(SETTLED_DAY)
    assert _assert_warehouse_equals_truth(simulator, pg_dsn, SETTLED_DAY, others) > 0

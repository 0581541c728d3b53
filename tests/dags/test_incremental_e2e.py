"""The incremental path end to end: the simulator's clock moves forward, real HTTP, real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from include.simulator import SimClock, Simulator, SimulatorConfig
from include.vonage_cdr.client import ReportsClient
from include.vonage_cdr.incremental import SyncPartition, read_watermark, sync_partition
from include.vonage_cdr.settings import Settings
from tests.dags.pipeline_harness import configure_pipeline, load_dag
from tests.dags.test_daily_e2e import _assert_warehouse_equals_truth, _run_day

START = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
PART = SyncPartition("SMS", "abcd1234", "outbound")


def _ids(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT id FROM cdr.sms WHERE direction = 'outbound'").fetchall()}


def _truth_ids(sim: Simulator, start: datetime, end: datetime, as_of: datetime) -> set[str]:
    rows = sim.ground_truth_window(PART.account_id, "SMS", start, end, direction="outbound", as_of=as_of)
    return {r["id"] for r in rows}


def _watermark(dsn: str) -> datetime | None:
    with psycopg.connect(dsn) as conn:
        return read_watermark(conn, PART)


@pytest.fixture
def busy_sim(simulator_factory) -> Simulator:
    # About 1,400 outbound SMS per 10 minutes: one window needs more than one 1000-record page.
    return simulator_factory(
        SimulatorConfig(clock=SimClock(start=START), records_per_day={"SMS": 400_000, "*": 200})
    )


def test_windows_pages_late_arrivals_and_freshness(
    busy_sim: Simulator, migrated_warehouse, tmp_path: Path
) -> None:
    dsn = migrated_warehouse.dsn
    settings = Settings(sync_initial_lookback=timedelta(minutes=10))
    client = ReportsClient(busy_sim.base_url, busy_sim.api_key, busy_sim.api_secret)

    now1 = client.server_time()
    first = sync_partition(client, dsn, PART, now=now1, settings=settings, work_dir=tmp_path)
    start1 = now1 - settings.sync_safety_margin - settings.sync_initial_lookback
    w1 = _watermark(dsn)
    assert w1 == now1 - settings.sync_safety_margin
    loaded = _ids(dsn)
    visible_then = _truth_ids(busy_sim, start1, w1, as_of=now1)
    assert len(visible_then) > 1000, "the window must span more than one page"
    assert visible_then <= loaded, "every record visible when the window was read is loaded"
    assert loaded <= _truth_ids(busy_sim, start1, w1, as_of=busy_sim.clock.now()), "no phantom records"
    assert first["cdrs_billed"] == first["rows_read"] == len(loaded)

    busy_sim.clock.advance(timedelta(minutes=5))
    now2 = client.server_time()
    sync_partition(client, dsn, PART, now=now2, settings=settings, work_dir=tmp_path)
    w2 = _watermark(dsn)
    assert w2 == now2 - settings.sync_safety_margin
    # Records that reached Vonage's index after the first read but fall inside the overlap arrive now.
    late = _truth_ids(busy_sim, w1 - settings.sync_overlap, w1, as_of=now2) - visible_then
    new = _truth_ids(busy_sim, w1, w2, as_of=now2)
    assert late | new <= _ids(dsn)
    print(f"late arrivals picked up by the overlap: {len(late)}; new records: {len(new)}")

    with psycopg.connect(dsn) as conn:
        newest, checked, lag = conn.execute(
            "SELECT newest_event_at, checked_at, lag_seconds FROM cdr.freshness "
            "WHERE product = 'SMS' AND account_id = %s AND direction = 'outbound' AND mode = 'sync'",
            (PART.account_id,),
        ).fetchone()
        billed, unique = conn.execute(
            "SELECT (SELECT sum(cdrs_billed) FROM cdr.load_ledger WHERE mode = 'sync'), "
            "(SELECT count(*) FROM cdr.sms WHERE direction = 'outbound')"
        ).fetchone()
    assert checked == now2
    assert lag == pytest.approx((now2 - newest).total_seconds())
    assert 0 <= lag < (settings.sync_safety_margin + timedelta(minutes=1)).total_seconds()
    # The overlap's cost is visible: re-read CDRs are billed again, but only the overlap's share.
    assert unique < billed < unique * 1.5


def test_an_outage_is_caught_up_in_bounded_chunks(
    simulator_factory, migrated_warehouse, tmp_path: Path
) -> None:
    # A frozen simulated clock (rate 0): Vonage's time moves only when the test moves it, so the number
    # of catch-up runs does not depend on how fast this machine runs them.
    simulator = simulator_factory(SimulatorConfig(clock=SimClock(start=START, rate=0)))
    dsn = migrated_warehouse.dsn
    settings = Settings(sync_max_catchup_per_run=timedelta(hours=24))
    client = ReportsClient(simulator.base_url, simulator.api_key, simulator.api_secret)
    sync_partition(client, dsn, PART, now=client.server_time(), settings=settings, work_dir=tmp_path)
    before = _watermark(dsn)

    simulator.clock.advance(timedelta(days=3, hours=1))
    marks = [before]
    for _ in range(6):
        now = client.server_time()
        summary = sync_partition(client, dsn, PART, now=now, settings=settings, work_dir=tmp_path)
        marks.append(_watermark(dsn))
        assert marks[-1] - marks[-2] <= settings.sync_max_catchup_per_run
        if marks[-1] == now - settings.sync_safety_margin:
            break
        assert summary["behind_by_seconds"] > 0
    assert len(marks) - 1 == 4, f"3 days and 1 hour at 24 hours per run take 4 runs, got {len(marks) - 1}"
    # Nothing in the outage was lost: every outbound SMS of a fully covered day is loaded.
    day = date(2026, 11, 21)
    truth = {r["id"] for r in simulator.ground_truth(PART.account_id, "SMS", day, direction="outbound")}
    assert truth and truth <= _ids(dsn)


@pytest.mark.usefixtures("airflow_db")
def test_incremental_dag_then_daily_dag_converge_on_the_ground_truth(
    simulator: Simulator, pg_dsn: str, warehouse_roles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_pipeline(
        monkeypatch,
        simulator,
        pg_dsn,
        tmp_path,
        warehouse_roles,
        products="SMS,VOICE-CALL",
        extra_env={"CDR_SYNC_INITIAL_LOOKBACK_MINUTES": "360"},
    )
    incremental = load_dag("vonage_cdr_incremental.py")
    for _ in range(2):
        run = incremental.test()
        assert str(getattr(run.state, "value", run.state)) == "success"
        simulator.clock.advance(timedelta(minutes=5))
    with psycopg.connect(pg_dsn) as conn:
        fresh = conn.execute(
            "SELECT product, direction, lag_seconds_at_check FROM analytics.freshness WHERE mode = 'sync'"
        ).fetchall()
        synced = conn.execute("SELECT count(*) FROM cdr.sms").fetchone()[0]
    assert {(p, d) for p, d, _ in fresh} == {("SMS", "inbound"), ("SMS", "outbound"), ("VOICE-CALL", "")}
    assert all(lag is not None and lag >= 0 for _, _, lag in fresh)
    assert synced > 0

    # The day is over and settled: the daily load for it makes the warehouse equal the ground truth.
    simulator.clock.advance(timedelta(days=1))
    _run_day(date(2026, 11, 20))
    _assert_warehouse_equals_truth(simulator, pg_dsn, date(2026, 11, 20), "SMS,VOICE-CALL")

"""Both DAGs under operational faults, through real Airflow runs (dag.test), the simulator and PostgreSQL.

The incident these guard against: against an independent Reports API implementation (no report list: 404;
no id lookups: 422) both DAGs failed before loading anything; wrong credentials were retried for minutes;
a hung call held a worker without end. Here the runtime warehouse login is a least-privilege loader and
migrations run through the separate admin connection, as in production.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from include.devtools.airflow_local import connection_env
from include.simulator import FaultConfig, SimClock, Simulator, SimulatorConfig
from include.vonage_cdr.planning import directions_for
from include.vonage_cdr.warehouse.migrate import apply_migrations
from tests.dags.pipeline_harness import configure_pipeline, iter_products, load_dag
from tests.dags.test_daily_e2e import _assert_warehouse_equals_truth

pytestmark = pytest.mark.usefixtures("airflow_db")

DAY = date(2026, 11, 15)  # settled: the simulator's clock starts 2026-11-20T06:00Z
PRODUCTS = "SMS,VOICE-CALL"
NO_OPTIONAL_PARTS = FaultConfig(list_reports_status=404, id_lookup_status=422)


def least_privilege(monkeypatch, sim: Simulator, pg_dsn: str, loader_login: str, tmp_path: Path, roles, **kw):
    """Runtime connection = a login in the loader role; cdr_warehouse_admin = the administrator."""
    env = configure_pipeline(monkeypatch, sim, loader_login, tmp_path, roles, products=PRODUCTS, **kw)
    admin = connection_env(sim.base_url, sim.api_key, sim.api_secret, pg_dsn)["AIRFLOW_CONN_CDR_WAREHOUSE"]
    monkeypatch.setenv("AIRFLOW_CONN_CDR_WAREHOUSE_ADMIN", admin)
    return env


def vonage_extras(monkeypatch, sim: Simulator, secret: str | None = None, **extra) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VONAGE_DEFAULT",
        json.dumps(
            {
                "conn_type": "http",
                "host": sim.base_url,
                "login": sim.api_key,
                "password": secret or sim.api_secret,
                "extra": {"account_id": sim.api_key, "backoff_initial": 0.05, "backoff_max": 0.2, **extra},
            }
        ),
    )


def run_daily(day: date = DAY):
    dag = load_dag("vonage_cdr_daily.py")
    when = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return dag.test(logical_date=when, run_conf={"day": day.isoformat()})


def state_of(run) -> str:
    return str(getattr(run.state, "value", run.state))


def partitions(products: str = PRODUCTS) -> int:
    return sum(len(directions_for(p)) for p in iter_products(products))


def registry(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT request_id, found_by FROM cdr.report_requests ORDER BY 1").fetchall()


def test_daily_dag_loads_a_day_exactly_without_the_list_and_id_lookups(
    simulator: Simulator, pg_dsn: str, loader_login: str, warehouse_roles, tmp_path: Path, monkeypatch
) -> None:
    least_privilege(monkeypatch, simulator, pg_dsn, loader_login, tmp_path, warehouse_roles)
    simulator.set_faults(NO_OPTIONAL_PARTS)
    assert state_of(run_daily()) == "success"
    assert _assert_warehouse_equals_truth(simulator, pg_dsn, DAY, PRODUCTS) > 0
    assert ("GET", "/v2/reports", 404) in simulator.request_log  # the list was tried and was missing
    created = [r["request_id"] for r in simulator.reports_created]
    assert len(created) == partitions()
    assert registry(pg_dsn) == sorted((rid, "created") for rid in created)

    # a re-run of the day within the reuse window finds its reports in the warehouse, pays nothing
    lists_before = sum(1 for _, p, _ in simulator.request_log if p == "/v2/reports")
    assert state_of(run_daily()) == "success"
    assert [r["request_id"] for r in simulator.reports_created] == created
    assert sum(1 for _, p, _ in simulator.request_log if p == "/v2/reports") == lists_before
    _assert_warehouse_equals_truth(simulator, pg_dsn, DAY, PRODUCTS)


def test_incremental_dag_loads_a_day_exactly_when_id_lookups_answer_422(
    simulator_factory, pg_dsn: str, loader_login: str, warehouse_roles, tmp_path: Path, monkeypatch
) -> None:
    """Vonage's clock is read from the Date header: the windows end exactly at its midnight."""
    now = datetime(2026, 11, 21, 0, 2, tzinfo=UTC)
    sim = simulator_factory(SimulatorConfig(clock=SimClock(start=now, rate=0), faults=NO_OPTIONAL_PARTS))
    day_minutes = "1440"
    least_privilege(
        monkeypatch,
        sim,
        pg_dsn,
        loader_login,
        tmp_path,
        warehouse_roles,
        extra_env={
            "CDR_SYNC_INITIAL_LOOKBACK_MINUTES": day_minutes,
            "CDR_SYNC_MAX_CATCHUP_MINUTES": day_minutes,
            "CDR_SYNC_SAFETY_MARGIN_MINUTES": "2",
        },
    )
    run = load_dag("vonage_cdr_incremental.py").test()
    assert state_of(run) == "success"
    assert ("GET", "/v2/reports/records", 422) in sim.request_log  # the id lookup failed, harmlessly
    day = date(2026, 11, 20)
    with psycopg.connect(pg_dsn) as conn:
        marks = conn.execute("SELECT DISTINCT watermark FROM cdr.sync_watermark").fetchall()
        assert marks == [(datetime(2026, 11, 21, tzinfo=UTC),)]
        for product in iter_products(PRODUCTS):
            for direction in directions_for(product):
                truth = {
                    r["id"]
                    for r in sim.ground_truth(sim.api_key, product.name, day, direction=direction, as_of=now)
                }
                # the table name comes from the registry
                query = f"SELECT id FROM cdr.{product.table} WHERE event_time < %s"
                args: list = [datetime(2026, 11, 21, tzinfo=UTC)]
                if direction:
                    query += " AND direction = %s"
                    args.append(direction)
                loaded = {r[0] for r in conn.execute(query, args).fetchall()}
                assert truth and loaded == truth, (product.name, direction)


def test_a_retry_after_a_lost_create_answer_creates_no_second_report(
    simulator: Simulator, pg_dsn: str, loader_login: str, warehouse_roles, tmp_path: Path, monkeypatch
) -> None:
    least_privilege(monkeypatch, simulator, pg_dsn, loader_login, tmp_path, warehouse_roles)
    vonage_extras(monkeypatch, simulator, max_attempts=1)  # the first try fails on the lost answer
    simulator.set_faults(FaultConfig(drop_create_answers=partitions()))
    assert state_of(run_daily()) == "success"
    created = [r["request_id"] for r in simulator.reports_created]
    assert len(created) == partitions(), "each partition's report was created once and found on retry"
    assert registry(pg_dsn) == sorted((rid, "listed") for rid in created)
    _assert_warehouse_equals_truth(simulator, pg_dsn, DAY, PRODUCTS)


def test_a_retry_after_a_lost_create_answer_with_no_list_pays_once_more_and_loads_exactly(
    simulator: Simulator, pg_dsn: str, loader_login: str, warehouse_roles, tmp_path: Path, monkeypatch
) -> None:
    """The stated rule when neither our record nor the list can find the report: create a new one."""
    least_privilege(monkeypatch, simulator, pg_dsn, loader_login, tmp_path, warehouse_roles)
    vonage_extras(monkeypatch, simulator, max_attempts=1)
    simulator.set_faults(FaultConfig(drop_create_answers=partitions(), list_reports_status=404))
    assert state_of(run_daily()) == "success"
    assert len(simulator.reports_created) == 2 * partitions()
    _assert_warehouse_equals_truth(simulator, pg_dsn, DAY, PRODUCTS)


def test_wrong_credentials_fail_the_run_at_the_first_call_without_retries(
    simulator: Simulator, pg_dsn: str, loader_login: str, warehouse_roles, tmp_path: Path, monkeypatch
) -> None:
    least_privilege(
        monkeypatch,
        simulator,
        pg_dsn,
        loader_login,
        tmp_path,
        warehouse_roles,
        extra_env={"CDR_TASK_RETRIES": "3"},
    )
    vonage_extras(monkeypatch, simulator, secret="wrong-secret-123")
    run = run_daily()
    assert state_of(run) == "failed"
    # The plan reads Vonage's clock (retention is counted on it): the first 401 fails the run there, once.
    unauthorized = [s for _, _, s in simulator.request_log if s == 401]
    assert unauthorized == [401], "one answered call, then no retry"
    states = {
        ti.task_id: (str(getattr(ti.state, "value", ti.state)), ti.try_number)
        for ti in run.get_task_instances()
    }
    assert states["plan"] == ("failed", 1)
    assert simulator.reports_created == []


def test_a_hung_sync_call_is_stopped_by_the_task_execution_timeout(
    simulator_factory, pg_dsn: str, loader_login: str, warehouse_roles, tmp_path: Path, monkeypatch
) -> None:
    hang = FaultConfig(slow_rate=1.0, slow_seconds=600, paths=("/v2/reports/records",))
    sim = simulator_factory(
        SimulatorConfig(clock=SimClock(start=datetime(2026, 11, 20, 6, tzinfo=UTC)), faults=hang)
    )
    least_privilege(
        monkeypatch,
        sim,
        pg_dsn,
        loader_login,
        tmp_path,
        warehouse_roles,
        extra_env={"CDR_SYNC_TASK_TIMEOUT_MINUTES": "0.05", "CDR_PRODUCTS": "VOICE-CALL"},
    )
    vonage_extras(monkeypatch, sim, read_timeout=900)  # only the task's bound can end the wait
    apply_migrations(pg_dsn, **warehouse_roles.migrate_kwargs)  # so only the hung call meets the bound
    started = time.monotonic()
    run = load_dag("vonage_cdr_incremental.py").test()
    assert state_of(run) == "failed"
    assert time.monotonic() - started < 300, "the 3 s task timeout, not the 600 s hang, ended the run"
    states = {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in run.get_task_instances()}
    assert {k: states.pop(k) for k in ("plan", "prepare_warehouse", "sync_partition")} == {
        "plan": "success",
        "prepare_warehouse": "success",
        "sync_partition": "failed",
    }
    assert set(states.values()) <= {"upstream_failed"}, states  # e.g. the asset publishing after the syncs
    with psycopg.connect(pg_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM cdr.load_ledger").fetchone() == (0,)


def test_every_task_of_both_dags_has_the_configured_execution_timeout(monkeypatch) -> None:
    monkeypatch.setenv("CDR_TASK_TIMEOUT_MINUTES", "45")
    monkeypatch.setenv("CDR_SYNC_TASK_TIMEOUT_MINUTES", "7")
    for file_name, minutes in (("vonage_cdr_daily.py", 45), ("vonage_cdr_incremental.py", 7)):
        dag = load_dag(file_name)
        timeouts = {task.task_id: task.execution_timeout for task in dag.tasks}
        assert timeouts and set(timeouts.values()) == {timedelta(minutes=minutes)}, (file_name, timeouts)

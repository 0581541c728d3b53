"""Airflow for real: the path users live on, not ``dag.test()``.

One module-scoped scenario starts what ``make airflow`` starts (the same :class:`AirflowComponents`):
the API server, the scheduler with the LocalExecutor, the DAG processor and the triggerer, on a
non-default port, against the simulator (a real HTTP server whose clock the test controls) and a
throwaway PostgreSQL warehouse. Then, as an operator would, through the REST API and the CLI:

1. trigger ``vonage_cdr_daily`` for a day (logical date = that day) while the simulator's clock is
   frozen: the report waits defer to the triggerer, and the pool (2 slots, deferred tasks counted)
   holds the third report back; then the clock runs and the run finishes;
2. trigger ``vonage_cdr_incremental`` (no logical date) and, at the same time, the daily DAG for the
   day before while every report fails: that run fails;
3. ``airflow backfill create --reprocess-behavior failed`` for that day re-runs it; without the flag
   Airflow would skip it.

The tests below each check one outcome of that scenario. A headless Chromium then opens the DAG's
grid, checks the runs show as successful and takes a screenshot (saved as the README's
docs/images/vonage_cdr_daily-grid.png when CDR_UPDATE_SCREENSHOTS=1).

Several minutes on a 2-core machine: marked ``slow`` and ``real_airflow`` (``make test-airflow``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from include.devtools.airflow_local import (
    AirflowComponents,
    StateLayout,
    airflow_env,
    metadata_url,
    prepare_airflow,
    read_admin_password,
)
from include.devtools.local_postgres import free_port
from include.simulator import SimClock, Simulator, SimulatorConfig
from include.simulator.config import FaultConfig
from tests.dags.airflow_api import AirflowApi, wait_for
from tests.dags.test_daily_e2e import _assert_warehouse_equals_truth

pytestmark = [pytest.mark.slow, pytest.mark.real_airflow, pytest.mark.timeout(3600)]

ROOT = Path(__file__).resolve().parents[2]
# The README's picture is refreshed only on request (CDR_UPDATE_SCREENSHOTS=1), so a test run never leaves the
# checkout modified; otherwise the screenshot goes to the test's temporary folder.
README_SCREENSHOT = ROOT / "docs" / "images" / "vonage_cdr_daily-grid.png"
DAILY = "vonage_cdr_daily"
INCREMENTAL = "vonage_cdr_incremental"
PRODUCTS = "SMS,VOICE-CALL"  # three report partitions: SMS inbound, SMS outbound, VOICE-CALL
POOL = "vonage_reports_api"
POOL_SLOTS = 2
ACCOUNT = "abcd1234"
SYNC_NAMES = {f"SMS inbound {ACCOUNT}", f"SMS outbound {ACCOUNT}", f"VOICE-CALL {ACCOUNT}"}
# Minutes: every step waits for a state, never for a time tuned to this machine's speed.
START_TIMEOUT = 900
RUN_TIMEOUT = 1500


class ClockTicker(threading.Thread):
    """Runs the simulator's frozen clock forward (a minute every half second) so reports finish."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__(name="sim-clock-ticker", daemon=True)
        self.clock = clock
        self.stopped = threading.Event()

    def run(self) -> None:
        # time.sleep, not stopped.wait(0.5): under faketime a timed wait on a lock does not expire
        while not self.stopped.is_set():
            time.sleep(0.5)
            if not self.stopped.is_set():
                self.clock.advance(timedelta(minutes=1))


@dataclass
class Scenario:
    airflow: AirflowComponents
    api: AirflowApi
    sim: Simulator
    dsn: str
    layout: StateLayout
    port: int
    day: date
    failed_day: date
    daily_run: dict[str, Any] = field(default_factory=dict)
    incremental_run: dict[str, Any] = field(default_factory=dict)
    failed_run: dict[str, Any] = field(default_factory=dict)
    backfilled_run: dict[str, Any] = field(default_factory=dict)
    deferred_reports: list[dict[str, Any]] = field(default_factory=list)
    pool_while_waiting: dict[str, Any] = field(default_factory=dict)
    held_back_report: dict[str, Any] = field(default_factory=dict)
    dry_run_plain: str = ""
    dry_run_reprocess_failed: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


def _midnight(day: date) -> str:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _airflow_cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, f"airflow {' '.join(args)}: {out.stdout[-2000:]}{out.stderr[-3000:]}"
    return out.stdout


def _report_tis(api: AirflowApi, run_id: str) -> list[dict[str, Any]]:
    return [ti for ti in api.task_instances(DAILY, run_id) if ti["task_id"] == "request_report"]


@contextlib.contextmanager
def _databases(pg_admin_dsn: str) -> Iterator[tuple[str, str, str]]:
    """A warehouse database, Airflow's metadata database and a role suffix; all removed afterwards.

    The metadata is PostgreSQL, as in ``make airflow``: with SQLite, `airflow backfill create` next to
    a busy scheduler fails with "database is locked".
    """
    token = uuid.uuid4().hex[:12]
    names = (f"cdrtest_{token}", f"cdrtest_meta_{token}")
    suffix = uuid.uuid4().hex[:10]
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        for name in names:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(pg_admin_dsn)
    params["dbname"] = names[0]
    try:
        yield make_conninfo(**params), metadata_url(pg_admin_dsn, names[1]), suffix
    finally:
        with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
            for name in names:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            for role in (f"cdr_analyst_{suffix}", f"cdr_loader_{suffix}"):
                if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                    conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture(scope="module")
def scenario(pg_admin_dsn: str) -> Iterator[Scenario]:
    started = time.monotonic()
    state = Path(tempfile.mkdtemp(prefix="cdr-real-airflow-"))
    state.chmod(0o755)
    layout = StateLayout(state).create()
    now = datetime.now(UTC).replace(microsecond=0)
    sim = Simulator(SimulatorConfig(clock=SimClock(start=now, rate=0), records_per_day=1000)).start()
    ticker = ClockTicker(sim.clock)
    # Unwound last-in first-out: the ticker, Airflow, then the databases, the simulator, the files.
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, state, ignore_errors=True)
        cleanup.callback(sim.stop)
        dsn, metadata, suffix = cleanup.enter_context(_databases(pg_admin_dsn))
        port = free_port()
        caller = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env = airflow_env(
            layout,
            sim.base_url,
            dsn,
            port=port,
            metadata_url=metadata,
            environ=caller,
            extra={
                "CDR_PRODUCTS": PRODUCTS,
                "CDR_API_POOL_SLOTS": str(POOL_SLOTS),
                "CDR_TASK_RETRIES": "2",
                "CDR_RETRY_DELAY_SECONDS": "2",
                "CDR_LOADER_ROLE": f"cdr_loader_{suffix}",
                "CDR_ANALYST_ROLE": f"cdr_analyst_{suffix}",
                # only the runs this test triggers: no scheduled runs on unpausing
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            },
        )
        with (layout.logs / "setup.log").open("ab") as log:
            prepare_airflow(env, log)
        airflow = AirflowComponents(layout, env)
        cleanup.callback(airflow.stop, say=lambda *_: None)  # before the databases are dropped
        airflow.start()
        airflow.wait_healthy(timeout=START_TIMEOUT)
        airflow.check_execution_api()
        login = wait_for(lambda: read_admin_password(layout), 120, "the admin password file")
        api = AirflowApi.login(airflow.url, *login)
        for dag_id in (DAILY, INCREMENTAL):
            wait_for(lambda dag_id=dag_id: api.dag_parsed(dag_id), START_TIMEOUT, f"{dag_id} parsed")
            api.unpause(dag_id)
        day = (now - timedelta(days=2)).date()
        s = Scenario(airflow, api, sim, dsn, layout, port, day, day - timedelta(days=1))
        s.seconds["start"] = time.monotonic() - started

        # 1. The daily run for `day`, reports held pending by the frozen simulator clock.
        run_id = api.trigger(DAILY, logical_date=_midnight(day))["dag_run_id"]
        s.deferred_reports = wait_for(
            lambda: (
                [ti for ti in _report_tis(api, run_id) if ti["state"] == "deferred"][POOL_SLOTS - 1 :]
                and [ti for ti in _report_tis(api, run_id) if ti["state"] == "deferred"]
            ),
            RUN_TIMEOUT,
            f"{POOL_SLOTS} report waits deferred",
        )
        s.pool_while_waiting = api.pool(POOL)
        api.wait_scheduler_loops(3, timeout=START_TIMEOUT)  # time to start a third, if it could
        waiting = [ti for ti in _report_tis(api, run_id) if ti["state"] != "deferred"]
        s.held_back_report = waiting[0] if waiting else {}
        s.pool_while_waiting["after_three_scheduler_loops"] = api.pool(POOL)
        cleanup.callback(ticker.stopped.set)
        ticker.start()
        s.daily_run = api.wait_run(DAILY, run_id, RUN_TIMEOUT)
        s.seconds["daily"] = time.monotonic() - started - s.seconds["start"]

        # 2. The incremental DAG, and a daily run that fails: every report comes back FAILED.
        sim.set_faults(FaultConfig(failed_report_rate=1.0))
        inc_id = api.trigger(INCREMENTAL, logical_date=None)["dag_run_id"]
        bad_id = api.trigger(DAILY, logical_date=_midnight(s.failed_day))["dag_run_id"]
        s.failed_run = api.wait_run(DAILY, bad_id, RUN_TIMEOUT)
        sim.set_faults(FaultConfig())
        s.incremental_run = api.wait_run(INCREMENTAL, inc_id, RUN_TIMEOUT)

        # 3. The README's backfill command re-runs the failed day.
        common = ["backfill", "create", "--dag-id", DAILY, "--from-date", s.failed_day.isoformat()]
        common += ["--to-date", s.failed_day.isoformat()]
        s.dry_run_plain = _airflow_cli(env, *common, "--dry-run")
        reprocess = [*common, "--reprocess-behavior", "failed"]
        s.dry_run_reprocess_failed = _airflow_cli(env, *reprocess, "--dry-run")
        _airflow_cli(env, *reprocess)
        wait_for(
            lambda: api.run(DAILY, bad_id)["run_type"] == "backfill",
            START_TIMEOUT,
            "the backfill to take the failed run over",
        )
        s.backfilled_run = api.wait_run(DAILY, bad_id, RUN_TIMEOUT)
        wait_for(
            lambda: all(b["completed_at"] for b in api.get("/backfills", dag_id=DAILY)["backfills"]),
            START_TIMEOUT,
            "the scheduler to mark the backfill complete",
        )
        s.seconds["total_before_checks"] = time.monotonic() - started
        print(f"\nreal Airflow scenario timings (s): {json.dumps(s.seconds)}")
        yield s


# --- the runs ------------------------------------------------------------------------------------


def test_both_dags_succeed_on_the_real_scheduler_on_a_non_default_port(scenario: Scenario) -> None:
    assert scenario.port != 8080
    assert scenario.airflow.execution_api_url == f"http://127.0.0.1:{scenario.port}/execution/"
    assert scenario.daily_run["state"] == "success", scenario.daily_run
    assert scenario.daily_run["logical_date"].startswith(scenario.day.isoformat())
    assert scenario.incremental_run["state"] == "success", scenario.incremental_run
    assert scenario.incremental_run["logical_date"] is None


def test_the_warehouse_holds_the_day_exactly_as_the_simulator_has_it(scenario: Scenario) -> None:
    assert _assert_warehouse_equals_truth(scenario.sim, scenario.dsn, scenario.day, PRODUCTS) > 0
    with psycopg.connect(scenario.dsn) as conn:
        days = conn.execute(
            "SELECT DISTINCT window_start::date FROM cdr.load_ledger WHERE mode = 'async' AND run_id = %s",
            (scenario.daily_run["dag_run_id"],),
        ).fetchall()
    assert days == [(scenario.day,)], "the run loads the UTC day of its logical date, nothing else"


def test_a_report_wait_was_deferred_to_the_triggerer(scenario: Scenario) -> None:
    assert len(scenario.deferred_reports) >= 1
    assert all(ti["state"] == "deferred" for ti in scenario.deferred_reports)
    run_id = scenario.daily_run["dag_run_id"]
    logs = "".join(
        path.read_text(errors="replace")
        for path in _run_logs(scenario, DAILY, run_id)
        if "task_id=request_report" in str(path)
    )
    assert "deferring until report" in logs, "the operator handed the wait to the triggerer"
    # the trigger's own poll lines, written by the triggerer into the task's log
    assert re.search(r"report [0-9a-f-]{36} is (PENDING|PROCESSING)", logs), "the triggerer polled"


def test_the_pool_counts_deferred_report_waits_and_holds_the_next_report_back(scenario: Scenario) -> None:
    pool = scenario.pool_while_waiting
    assert pool["include_deferred"] is True
    assert pool["deferred_slots"] == POOL_SLOTS and pool["open_slots"] == 0, pool
    later = pool["after_three_scheduler_loops"]
    assert later["deferred_slots"] == POOL_SLOTS and later["open_slots"] == 0, later
    assert scenario.held_back_report, "three reports were planned; one must wait for a slot"
    assert scenario.held_back_report["state"] == "scheduled", scenario.held_back_report


def test_mapped_task_instances_are_named_after_their_partition(scenario: Scenario) -> None:
    tis = scenario.api.task_instances(DAILY, scenario.daily_run["dag_run_id"])
    day = scenario.day.isoformat()
    expected = {f"{partition} {day}" for partition in SYNC_NAMES}
    for task_id in ("request_report", "load_partition"):
        assert {ti["rendered_map_index"] for ti in tis if ti["task_id"] == task_id} == expected, task_id
    sync = scenario.api.task_instances(INCREMENTAL, scenario.incremental_run["dag_run_id"])
    assert {ti["rendered_map_index"] for ti in sync if ti["task_id"] == "sync_partition"} == SYNC_NAMES


# --- what downstream users get ---------------------------------------------------------------------


def test_asset_events_carry_day_product_rows_and_load_ids_from_both_dags(scenario: Scenario) -> None:
    api = scenario.api
    daily = api.asset_events(source_dag_id=DAILY, source_run_id=scenario.daily_run["dag_run_id"])
    assert {e["name"] for e in daily} == {"cdr.sms", "cdr.voice_call"}
    with psycopg.connect(scenario.dsn) as conn:
        ledger = conn.execute(
            "SELECT product, array_agg(load_id ORDER BY load_id), sum(rows_read), sum(rows_inserted) "
            "FROM cdr.load_ledger WHERE run_id = %s GROUP BY product",
            (scenario.daily_run["dag_run_id"],),
        ).fetchall()
        synced = conn.execute(
            "SELECT product, array_agg(load_id ORDER BY load_id) FROM cdr.load_ledger WHERE run_id = %s "
            "GROUP BY product",
            (scenario.incremental_run["dag_run_id"],),
        ).fetchall()
    by_product = {p: (ids, read, inserted) for p, ids, read, inserted in ledger}
    for event in daily:
        extra = event["extra"]
        ids, read, inserted = by_product[extra["product"]]
        assert extra["mode"] == "daily"
        assert extra["day"] == scenario.day.isoformat() and extra["days"] == [scenario.day.isoformat()]
        assert extra["load_ids"] == ids
        assert (extra["rows_read"], extra["rows_inserted"]) == (read, inserted)
        assert extra["rows_read"] > 0
    incremental = api.asset_events(
        source_dag_id=INCREMENTAL, source_run_id=scenario.incremental_run["dag_run_id"]
    )
    assert incremental, "the incremental DAG emits Asset events too"
    sync_ids = dict(synced)
    for event in incremental:
        extra = event["extra"]
        assert extra["mode"] == "sync"
        assert event["name"] == f"cdr.{extra['product'].lower().replace('-', '_')}"
        assert extra["rows_inserted"] + extra["rows_updated"] > 0
        assert extra["load_ids"] == sync_ids[extra["product"]]
        assert extra["synced_until"]


def _run_logs(scenario: Scenario, dag_id: str, run_id: str) -> list[Path]:
    folder = scenario.layout.airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
    files = sorted(folder.rglob("attempt=*.log"))
    assert files, f"no task logs under {folder}"
    return files


def _final_attempts(files: list[Path]) -> list[Path]:
    latest: dict[Path, Path] = {}
    for path in files:
        number = int(re.search(r"attempt=(\d+)", path.name).group(1))  # type: ignore[union-attr]
        best = latest.get(path.parent)
        if best is None or number > int(re.search(r"attempt=(\d+)", best.name).group(1)):  # type: ignore[union-attr]
            latest[path.parent] = path
    return sorted(latest.values())


def test_a_successful_runs_logs_have_no_error_lines(scenario: Scenario) -> None:
    for dag_id, run in ((DAILY, scenario.daily_run), (INCREMENTAL, scenario.incremental_run)):
        files = _run_logs(scenario, dag_id, run["dag_run_id"])
        for path in files:
            assert "XCom not found" not in path.read_text(errors="replace"), path
        for path in _final_attempts(files):
            errors = [
                line
                for line in path.read_text(errors="replace").splitlines()
                if re.search(r'"level":\s*"(error|critical)"', line)
            ]
            assert errors == [], f"{path}: {errors[:3]}"
    assert "XCom not found" not in scenario.airflow.log_path("scheduler").read_text(errors="replace")


# --- backfill --------------------------------------------------------------------------------------


def _runs_to_attempt(dry_run: str) -> list[str]:
    """The logical dates `airflow backfill create --dry-run` lists under "Runs to be attempted"."""
    listed = dry_run.split("Runs to be attempted:", 1)[1]
    return re.findall(r"(\d{4}-\d{2}-\d{2})[ T]00:00:00", listed)


def test_backfill_with_reprocess_failed_reruns_a_failed_day(scenario: Scenario) -> None:
    day = scenario.failed_day.isoformat()
    assert scenario.failed_run["state"] == "failed", scenario.failed_run
    assert _runs_to_attempt(scenario.dry_run_plain) == [], "without the flag Airflow skips a failed day"
    assert _runs_to_attempt(scenario.dry_run_reprocess_failed) == [day]
    run = scenario.backfilled_run
    assert (run["state"], run["run_type"]) == ("success", "backfill"), run
    assert _assert_warehouse_equals_truth(scenario.sim, scenario.dsn, scenario.failed_day, PRODUCTS) > 0


# --- what a person sees ----------------------------------------------------------------------------


def test_the_grid_shows_the_successful_runs_in_a_real_browser(
    scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.dags.browser import chromium_page

    user, password = read_admin_password(scenario.layout) or ("admin", "")
    run_ids = [scenario.daily_run["dag_run_id"], scenario.backfilled_run["dag_run_id"]]
    tasks = ["plan", "prepare_warehouse", "wait_for_settlement", "request_report", "load_partition"]
    tasks += ["publish_sms", "publish_voice_call"]
    with chromium_page() as page:
        page.goto(f"{scenario.airflow.url}/dags/{DAILY}", timeout=120_000)  # type: ignore[attr-defined]
        page.fill("input[name=username]", user)  # type: ignore[attr-defined]
        page.fill("input[name=password]", password)  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        for run_id in run_ids:
            for task_id in tasks:
                cell = page.locator(f'[data-testid="grid-{run_id}-{task_id}"]')  # type: ignore[attr-defined]
                cell.wait_for(timeout=120_000)
                # the success badge carries a check mark (failed ones an X, running ones a spinner)
                icon = cell.locator('[data-testid="task-state-badge"] path').get_attribute("d")
                assert icon == "M20 6 9 17l-5-5", (run_id, task_id, icon)
        page.wait_for_load_state("networkidle", timeout=120_000)  # type: ignore[attr-defined]
        screenshot = (
            README_SCREENSHOT
            if os.environ.get("CDR_UPDATE_SCREENSHOTS") == "1"
            else tmp_path_factory.mktemp("screenshots") / README_SCREENSHOT.name
        )
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))  # type: ignore[attr-defined]
    assert screenshot.stat().st_size > 10_000

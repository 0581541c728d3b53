"""The soak's timeline: simulated days of incremental and daily DAG runs under faults, a killed load, the
settled re-load, and the comparison with the ground truth.

Timeline (simulated clock, UTC; the simulator runs at real rate between explicit jumps):

1. for each day D: the incremental DAG every ``sync_every_hours`` (at D+h ... D+24h), then at D+1 01:00 the
   daily DAG for D. Faults are on throughout; the 5xx status and the fault seed change per phase.
2. two loads killed with SIGKILL mid-COPY in a child process (reports of the first and last day); the
   clock moves 73 hours (the report files expire) and the first task's retry runs; 24 hours more (the
   report metadata expires too) and the second one's retry runs. Both must replace their report.
3. settled re-load: every day again through the daily DAG, after Vonage's late status and price changes
   (up to 72 hours) are final, as a reload lag of 4 days or more does in production.
4. repair, as the runbook says (docs/reliability.md): a day whose latest load quarantined rows or met a
   column the file should have had is loaded again, at most ``repair_rounds`` times.
5. the warehouse is compared with the simulator's ground truth as of the end.

DAG runs use ``dag.test()``, which runs failed tasks again after their retry delay (Airflow's retries, as
the scheduler would). A run that still fails is run again for the same day (``dag.test()`` clears the run's
task instances first: an honest "clear and re-run"), at most ``max_day_attempts`` times.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from include.devtools.local_postgres import LocalPostgres
from include.devtools.soak.compare import (
    Checkpoint,
    Comparison,
    Snapshot,
    checkpoint,
    compare,
    late_updates,
    snapshot,
)
from include.devtools.soak.faults import TIMEOUT_CLIENT_SECONDS, soak_faults
from include.devtools.soak.kill import KillOutcome, kill_mid_copy, task_context
from include.simulator import Account, SimClock, Simulator, SimulatorConfig
from include.simulator.config import DEFAULT_SUBACCOUNTS
from include.simulator.products import PRODUCTS as SIM_PRODUCTS
from include.vonage_cdr.planning import directions_for
from include.vonage_cdr.products import DEFAULT_PRODUCTS, get_product

ROOT = Path(__file__).resolve().parents[3]
API_KEY = "abcd1234"
DAILY_DAG = "vonage_cdr_daily"
INCREMENTAL_DAG = "vonage_cdr_incremental"


@dataclass
class SoakConfig:
    seed: int = 11
    days: int = 3
    products: tuple[str, ...] = DEFAULT_PRODUCTS
    records_per_day: int = 300
    paged_product: str | None = "SMS"  # enough records that sync windows span several pages (cursors)
    paged_records_per_day: int = 12_000
    fault_scale: float = 1.0
    rates: dict[str, float] = field(default_factory=dict)  # single fault rates overriding faults.BASE_RATES
    sync_every_hours: int = 6
    start_day: date | None = None
    time_limit_minutes: float = 45.0
    max_day_attempts: int = 3
    repair_rounds: int = 3
    kill: bool = True
    keep_warehouse: bool = False  # leave the database and its roles for inspection (named in the JSON)
    state_dir: Path | None = None  # kept when given; else a temporary directory removed at the end
    database_url: str | None = None  # admin conninfo of an existing server; else a throwaway local one
    api_secret: str | None = field(default=None, repr=False)
    warehouse_password: str | None = field(default=None, repr=False)
    json_summary: Path | None = None

    def first_day(self) -> date:
        # In the past on the real clock: the daily DAG's settlement wait and retention check read it.
        return self.start_day or datetime.now(UTC).date() - timedelta(days=self.days + 7)


@dataclass
class Stats:
    dag_runs: dict[str, int] = field(default_factory=lambda: {DAILY_DAG: 0, INCREMENTAL_DAG: 0})
    reruns: int = 0
    repairs: int = 0
    failed_runs: list[str] = field(default_factory=list)
    kills: list[KillOutcome] = field(default_factory=list)
    retries_after_kill: list[str] = field(default_factory=list)
    phases: list[tuple[str, float]] = field(default_factory=list)
    checks: Checkpoint = field(default_factory=Checkpoint)
    failed_tries: int = 0  # task tries that failed (each followed by an Airflow retry or a re-run)
    tries_seen: dict[str, int] = field(default_factory=dict)


class TimeLimitExceeded(RuntimeError):
    pass


class Soak:
    def __init__(self, cfg: SoakConfig, out: TextIO) -> None:
        self.cfg = cfg
        self.out = out
        self.stats = Stats()
        self.days = [cfg.first_day() + timedelta(days=i) for i in range(cfg.days)]
        self.products = tuple(get_product(p).name for p in cfg.products)
        self.api_secret = cfg.api_secret or f"soak-secret-{secrets.token_hex(8)}"
        self.password = cfg.warehouse_password or f"soak-pw-{secrets.token_hex(8)}"
        self.suffix = uuid.uuid4().hex[:8]
        self.loader_role = f"cdr_loader_soak_{self.suffix}"
        self.analyst_role = f"cdr_analyst_soak_{self.suffix}"
        self.login_role = f"cdr_login_soak_{self.suffix}"
        self.phase = 0
        self.pg_server: LocalPostgres | None = None
        self.kept: dict[str, Any] = {}
        self.started = time.monotonic()
        self.deadline = self.started + cfg.time_limit_minutes * 60

    # -- output
    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    @contextlib.contextmanager
    def phase_timer(self, title: str) -> Iterator[None]:
        self.say(f"[{time.monotonic() - self.started:6.0f} s] {title}")
        t0 = time.monotonic()
        yield
        self.stats.phases.append((title, time.monotonic() - t0))

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Send this process's stdout/stderr (Airflow's and the tasks' logs) to the soak's log file."""
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        with self.log_path.open("ab") as log:
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            try:
                yield
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])

    def emergency_stop(self) -> None:
        """Stop the PostgreSQL server this soak started (the watchdog calls this before exiting)."""
        if self.pg_server is not None:
            self.pg_server.stop()

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise TimeLimitExceeded(
                f"the soak passed its time limit of {self.cfg.time_limit_minutes:.0f} minutes"
            )

    # -- set-up
    def run(self, state: Path) -> int:
        self.state = state
        self.log_path = state / "soak.log"
        self.airflow_home = Path(os.environ["AIRFLOW_HOME"])
        with contextlib.ExitStack() as stack:
            with self.phase_timer("start PostgreSQL, the simulator and an Airflow metadata database"):
                self.admin_dsn = stack.enter_context(self._warehouse())
                self.sim = stack.enter_context(self._simulator())
                self._pipeline_env()
                self._airflow_db()
            return self._timeline()

    @contextlib.contextmanager
    def _warehouse(self) -> Iterator[str]:
        server: LocalPostgres | None = None
        server_dsn = self.cfg.database_url
        if server_dsn is None:
            server = self.pg_server = LocalPostgres().start()
            server.require_passwords()
            server_dsn = server.dsn
        dbname = f"cdr_soak_{self.suffix}"
        try:
            with psycopg.connect(server_dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
            params = conninfo_to_dict(server_dsn)
            params["dbname"] = dbname
            dsn = make_conninfo(**params)
            from include.vonage_cdr.warehouse.migrate import apply_migrations

            apply_migrations(dsn, loader_role=self.loader_role, analyst_role=self.analyst_role)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                        sql.Identifier(self.login_role),
                        sql.Literal(self.password),
                        sql.Identifier(self.loader_role),
                    )
                )
            login = {**params, "user": self.login_role, "password": self.password}
            self.login_dsn = make_conninfo(**login)
            if self.cfg.keep_warehouse and server is None:
                roles = [self.login_role, self.analyst_role, self.loader_role]
                self.kept = {"database": dbname, "roles": roles}
            yield dsn
        finally:
            if not self.kept:
                self._drop(server_dsn, dbname)
            if server is not None:
                server.stop()

    def _drop(self, server_dsn: str, dbname: str) -> None:
        with contextlib.suppress(Exception), psycopg.connect(server_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
            for role in (self.login_role, self.analyst_role, self.loader_role):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

    @contextlib.contextmanager
    def _simulator(self) -> Iterator[Simulator]:
        cfg = self.cfg
        per_day: dict[str, int] = {"*": cfg.records_per_day}
        if cfg.paged_product and cfg.paged_product in self.products:
            per_day[cfg.paged_product] = cfg.paged_records_per_day
        start = datetime.combine(self.days[0], datetime.min.time(), tzinfo=UTC)
        sim_cfg = SimulatorConfig(
            seed=cfg.seed,
            accounts=[Account(API_KEY, self.api_secret, DEFAULT_SUBACCOUNTS)],
            records_per_day=per_day,
            clock=SimClock(start=start, rate=1.0),
            faults=soak_faults(cfg.seed, cfg.fault_scale, 0, cfg.rates),
            data_dir=str(self.state / "simulator"),
        )
        sim = Simulator(sim_cfg).start()
        try:
            yield sim
        finally:
            sim.stop()

    def _pipeline_env(self) -> None:
        pg = conninfo_to_dict(self.login_dsn)
        vonage = {
            "conn_type": "http",
            "host": self.sim.base_url,
            "login": API_KEY,
            "password": self.api_secret,
            "extra": {
                "account_id": API_KEY,
                "read_timeout": TIMEOUT_CLIENT_SECONDS,
                "download_read_timeout": TIMEOUT_CLIENT_SECONDS * 2,
                "backoff_max": 2,
                "max_retry_time": 90,
            },
        }
        warehouse = {
            "conn_type": "postgres",
            "host": pg.get("host", "127.0.0.1"),
            "port": int(pg.get("port", 5432)),
            "login": pg["user"],
            "password": pg["password"],
            "schema": pg["dbname"],
        }
        hours = self.cfg.sync_every_hours
        os.environ.update(
            {
                "AIRFLOW_CONN_VONAGE_DEFAULT": json.dumps(vonage),
                "AIRFLOW_CONN_CDR_WAREHOUSE": json.dumps(warehouse),
                "CDR_PRODUCTS": ",".join(self.products),
                "CDR_LAKE_ROOT": str(self.state / "lake"),
                "CDR_WORK_DIR": str(self.state / "work"),
                "CDR_REPORT_POLL_SECONDS": "0.5",
                "CDR_REPORT_INITIAL_DELAY_SECONDS": "0.5",
                "CDR_SETTLEMENT_DELAY_HOURS": "0",
                "CDR_TASK_RETRIES": "3",
                "CDR_RETRY_DELAY_SECONDS": "1",
                "CDR_LOADER_ROLE": self.loader_role,
                "CDR_ANALYST_ROLE": self.analyst_role,
                "CDR_SYNC_INITIAL_LOOKBACK_MINUTES": str(hours * 60),
                "CDR_SYNC_MAX_CATCHUP_MINUTES": str(hours * 60 + 60),
            }
        )

    def _airflow_db(self) -> None:
        airflow = Path(sys.executable).with_name("airflow")
        with self.log_path.open("ab") as log:
            subprocess.run([str(airflow), "db", "migrate"], check=True, stdout=log, stderr=subprocess.STDOUT)
        with self.quiet():
            from airflow.dag_processing.dagbag import DagBag

            dags = {}
            for name in ("vonage_cdr_daily.py", "vonage_cdr_incremental.py"):
                bag = DagBag(dag_folder=str(ROOT / "dags" / name))
                if bag.import_errors:
                    raise RuntimeError(f"DAG import errors: {bag.import_errors}")
                dags.update(bag.dags)
        self.daily = dags[DAILY_DAG]
        self.incremental = dags[INCREMENTAL_DAG]

    # -- runs
    def next_phase(self) -> None:
        self.phase += 1
        self.sim.set_faults(soak_faults(self.cfg.seed, self.cfg.fault_scale, self.phase, self.cfg.rates))

    def _run(self, label: str, call: Callable[[], Any], dag_id: str) -> bool:
        for attempt in range(1, self.cfg.max_day_attempts + 1):
            self.check_time()
            with self.quiet():
                try:
                    run = call()
                    state = str(getattr(run.state, "value", run.state))
                    self._count_failed_tries(dag_id, run.run_id)
                except Exception as exc:  # a crash of the run loop itself: report it, re-run
                    print(f"soak: {label} raised {exc!r}", flush=True)
                    state = f"error ({type(exc).__name__})"
            self.stats.dag_runs[dag_id] += 1
            if state == "success":
                return True
            if attempt < self.cfg.max_day_attempts:
                self.stats.reruns += 1
                self.say(f"    {label}: the run ended {state} after its task retries; running it again")
        self.stats.failed_runs.append(label)
        self.say(f"    {label}: still failing after {self.cfg.max_day_attempts} runs")
        return False

    def run_daily(self, day: date, why: str) -> bool:
        """One daily run for `day` (re-run if it fails), then the checkpoint of what it loaded."""
        logical = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        before: Snapshot = {}

        def attempt() -> Any:
            before.clear()
            before.update(snapshot(self.admin_dsn, self.products, API_KEY, day))
            return self.daily.test(logical_date=logical, run_conf={"day": day.isoformat()})

        ok = self._run(f"daily {day} ({why})", attempt, DAILY_DAG)
        if ok:
            check = checkpoint(self.sim, self.admin_dsn, self.products, API_KEY, day, _file_columns, before)
            self.stats.checks.add(check)
            if check.silent:
                self.say(f"    daily {day} ({why}) loaded wrong data silently: {check.examples[0]}")
        return ok

    def run_incremental(self) -> bool:
        return self._run(
            f"incremental at {self.sim.clock.now():%Y-%m-%d %H:%M}", self.incremental.test, INCREMENTAL_DAG
        )

    def set_clock(self, when: datetime) -> None:
        if when > self.sim.clock.now():
            self.sim.clock.set(when)

    # -- timeline
    def _timeline(self) -> int:
        cfg = self.cfg
        self.say(
            f"soak: seed {cfg.seed}, days {self.days[0]}..{self.days[-1]}, "
            f"products {','.join(self.products)}, "
            f"{cfg.records_per_day} records/product/day"
            + (
                f" ({cfg.paged_product}: {cfg.paged_records_per_day})"
                if cfg.paged_product in self.products
                else ""
            )
            + f", fault scale {cfg.fault_scale}"
        )
        for day in self.days:
            with self.phase_timer(
                f"day {day}: incremental every {cfg.sync_every_hours} h, then the daily run"
            ):
                start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                for hour in range(cfg.sync_every_hours, 25, cfg.sync_every_hours):
                    self.set_clock(start + timedelta(hours=hour))
                    self.run_incremental()
                self.next_phase()
                self.set_clock(start + timedelta(days=1, hours=1))
                self.run_daily(day, "first read")
                self.next_phase()
        last_end = datetime.combine(self.days[-1] + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
        if cfg.kill:
            with self.phase_timer(
                "kill two loads with SIGKILL mid-COPY; retry them after file and report expiry"
            ):
                self._kill_and_retry()
        with self.phase_timer("settled re-load of every day (late status and price changes are final)"):
            self.set_clock(last_end + timedelta(hours=98))
            self.next_phase()
            for day in self.days:
                self.run_daily(day, "settled re-load")
        final = self.sim.clock.now()
        before = compare(self.sim, self.admin_dsn, self.products, API_KEY, self.days, final)
        with self.phase_timer("repair: days whose latest load quarantined rows or missed a column"):
            for _ in range(cfg.repair_rounds):
                todo = self._days_needing_repair()
                if not todo:
                    break
                self.next_phase()
                for day in todo:
                    self.stats.repairs += 1
                    self.run_daily(day, "repair")
        final = self.sim.clock.now()
        with self.phase_timer("compare the warehouse with the ground truth"):
            result = compare(self.sim, self.admin_dsn, self.products, API_KEY, self.days, final)
            changed = late_updates(self.sim, self.products, API_KEY, self.days, None, final)
        return self._summary(before, result, changed)

    # -- the killed loads
    def _completed_report(self, product: str, day: date) -> dict[str, Any]:
        from include.vonage_cdr.client import ReportRequest, ReportsClient, raise_for_outcome

        direction = directions_for(get_product(product))[0]
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        req = ReportRequest(product, API_KEY, start, start + timedelta(days=1), direction=direction)
        with ReportsClient(self.sim.base_url, API_KEY, self.api_secret) as client:
            for _ in range(5):
                report = client.create_report(req)
                done = client.wait_for_report(report.request_id, poll_interval=0.5, timeout=120)
                if done.request_status == "SUCCESS":
                    return raise_for_outcome(done).summary()
        raise RuntimeError(f"no SUCCESS report for {product} {day} in 5 tries")

    def _retry_load(self, report: dict[str, Any], expect: str) -> None:
        """The killed task's retries (tries 2..5), in this process, as Airflow's retry would run them."""
        from include.vonage_cdr.settings import Settings
        from vonage_reports.pipeline_tasks import load_partition

        for try_number in range(2, 6):
            with self.quiet():
                try:
                    result = load_partition(report, task_context(report, try_number), Settings.from_env())
                except Exception as exc:
                    print(f"soak: retry {try_number} of the killed load failed: {exc!r}", flush=True)
                    continue
            replaced = result.get("replaced_expired_report") == report["request_id"]
            self.stats.retries_after_kill.append(
                f"{report['product']} {result['day']}: try {try_number} after {expect} "
                + (
                    f"replaced the report ({result['report_request_id'][:8]}...)"
                    if replaced
                    else "did NOT replace it"
                )
            )
            return
        self.stats.retries_after_kill.append(f"{report['product']}: every retry after {expect} failed")

    def _kill_and_retry(self) -> None:
        with self.quiet():
            first = self._completed_report(self.products[0], self.days[0])
            second = self._completed_report(self.products[-1], self.days[-1])
        for report in (first, second):
            outcome = kill_mid_copy(
                report, admin_dsn=self.admin_dsn, work_dir=self.state / "kill", log_path=self.log_path
            )
            self.stats.kills.append(outcome)
            self.say(f"    killed {report['product']}: {outcome.detail}")
        self.sim.clock.advance(timedelta(hours=73))  # the files are gone (72 h), the metadata not yet
        self._retry_load(first, "file expiry")
        self.sim.clock.advance(timedelta(hours=24))  # the report metadata is gone too (4 days)
        self._retry_load(second, "report expiry")

    # -- repair
    def _days_needing_repair(self) -> list[date]:
        """Days whose latest daily load of some partition quarantined rows, kept unknown columns, or missed a
        column the product's file carries for that direction (docs/reliability.md, replaying quarantine)."""
        todo: set[date] = set()
        with psycopg.connect(self.admin_dsn) as conn:
            rows = conn.execute(
                "SELECT DISTINCT ON (product, direction, window_start) product, direction, window_start, "
                "rows_quarantined, unknown_columns, missing_columns FROM cdr.load_ledger "
                "WHERE mode = 'async' ORDER BY product, direction, window_start, load_id DESC"
            ).fetchall()
        for product, direction, window_start, quarantined, unknown, missing in rows:
            day = window_start.astimezone(UTC).date()
            if day not in self.days:
                continue
            if quarantined or unknown or _file_columns(product, direction or None) & set(missing or ()):
                todo.add(day)
        return sorted(todo)

    # -- summary
    def _leftovers(self) -> list[str]:
        found = []
        for root in (self.state / "lake", self.state / "work"):
            if root.exists():
                found += [str(p.relative_to(self.state)) for p in root.rglob("*") if p.is_file()
                          and (root.name == "work" or p.name.startswith("."))]  # fmt: skip
        return found

    def _count_failed_tries(self, dag_id: str, run_id: str) -> None:
        """Add the failed tries of this run's task instances (their history holds the earlier tries)."""
        db = self.airflow_home / "airflow.db"
        failed = "state IN ('failed', 'up_for_retry')"
        with contextlib.closing(sqlite3.connect(db)) as conn:
            total = sum(
                int(
                    conn.execute(
                        f"SELECT count(*) FROM {table} WHERE dag_id = ? AND run_id = ? AND {failed}",
                        (dag_id, run_id),
                    ).fetchone()[0]
                )
                for table in ("task_instance_history", "task_instance")
            )
        # A re-run clears the run's failed task instances into the history: count each try once.
        self.stats.failed_tries += max(0, total - self.stats.tries_seen.get(run_id, 0))
        self.stats.tries_seen[run_id] = total

    def _summary(self, before: Comparison, result: Comparison, changed: int) -> int:
        wall = time.monotonic() - self.started
        faults = self.sim.fault_counts()
        leftovers = self._leftovers()
        say = self.say
        say("")
        say(f"records compared: {result.records} ({result.values} values) across {len(self.days)} days: "
            + ", ".join(f"{p} {n}" for p, n in result.by_product.items()))  # fmt: skip
        say(f"faults injected (counted by the simulator): {sum(faults.values())}")
        for kind, n in faults.items():
            say(f"  {kind:<24} {n}")
        unmet = [k for k in FAULT_KINDS if not any(f == k or f.startswith(f"{k}_") for f in faults)]
        if unmet:
            say(f"  not met in this run (seeded; another seed or more days meet them): {', '.join(unmet)}")
        say(f"late status/price updates after the first daily read: {changed} records")
        runs = self.stats.dag_runs
        say(f"DAG runs: daily {runs[DAILY_DAG]}, incremental {runs[INCREMENTAL_DAG]}; "
            f"failed task tries retried: {self.stats.failed_tries}; runs re-run after their retries: "
            f"{self.stats.reruns}; repair re-loads: {self.stats.repairs}")  # fmt: skip
        for kill in self.stats.kills:
            say(f"killed mid-COPY: report {kill.request_id[:8]}... in COPY: {kill.killed_in_copy}, "
                f"rolled back: {kill.rolled_back} (child starts: {kill.attempts})")  # fmt: skip
        for line in self.stats.retries_after_kill:
            say(f"retry after the kill: {line}")
        say(
            f"leftover temporary files: {len(leftovers)}"
            + (f" ({', '.join(leftovers[:5])})" if leftovers else "")
        )
        if self.stats.failed_runs:
            say(f"runs that never succeeded: {'; '.join(self.stats.failed_runs)}")
        checks = self.stats.checks
        say(f"checked after each daily load: {checks.partitions} partitions, {checks.records} records; "
            f"wrong without a flag (silent): missing {checks.silent_missing}, stale {checks.silent_stale}; "
            f"flagged by the load (quarantined or unknown): {checks.flagged}")  # fmt: skip
        for example in checks.examples[:5]:
            say(f"  silent: {example}")
        say(f"before repair: missing={before.missing} duplicated={before.duplicated} stale={before.stale} "
            f"unexpected={before.unexpected}")  # fmt: skip
        for example in result.examples:
            say(f"  e.g. {example}")
        say(f"unexpected={result.unexpected} (leftover extras keys, not counted as stale: "
            f"{result.leftover_extras} records)")  # fmt: skip
        say(f"missing={result.missing} duplicated={result.duplicated} stale={result.stale}")
        say(f"wall time: {wall:.0f} s (log: {self.log_path})")
        kills_ok = all(k.killed_in_copy and k.rolled_back for k in self.stats.kills)
        retries_ok = all("replaced the report" in r for r in self.stats.retries_after_kill)
        ok = result.exact and kills_ok and retries_ok and result.records > 0 and not checks.silent
        if self.cfg.json_summary:
            self.cfg.json_summary.write_text(
                json.dumps(
                    {
                        "ok": ok,
                        "records": result.records,
                        "values": result.values,
                        "missing": result.missing,
                        "duplicated": result.duplicated,
                        "stale": result.stale,
                        "unexpected": result.unexpected,
                        "leftover_extras": result.leftover_extras,
                        "checkpoints": checks.__dict__,
                        "before_repair": {
                            "missing": before.missing,
                            "duplicated": before.duplicated,
                            "stale": before.stale,
                            "unexpected": before.unexpected,
                        },
                        "faults": faults,
                        "late_updates": changed,
                        "dag_runs": self.stats.dag_runs,
                        "failed_task_tries": self.stats.failed_tries,
                        "reruns": self.stats.reruns,
                        "repairs": self.stats.repairs,
                        "kills": [k.__dict__ for k in self.stats.kills],
                        "retries_after_kill": self.stats.retries_after_kill,
                        "leftovers": leftovers,
                        "wall_seconds": round(wall, 1),
                        "phases": self.stats.phases,
                        "examples": result.examples,
                        "warehouse": {"dsn": self.admin_dsn, **self.kept} if self.kept else None,
                    },
                    indent=2,
                )
            )
        return 0 if ok else 1


#: the kinds the soak injects (as the simulator counts them; 5xx as server_error_<status>)
FAULT_KINDS = (
    "rate_limit_burst", "server_error", "slow", "timeout", "connection_reset", "truncated_download",
    "corrupt_download", "html_download", "short_file:cut", "short_file:header_only", "short_file:empty_zip",
    "short_file:no_csv", "missing_column", "renamed_column", "undecodable_row", "malformed_row",
    "expired_cursor", "failed_report", "expired_file", "expired_report",
)  # fmt: skip


def _file_columns(product: str, direction: str | None) -> set[str]:
    """The columns Vonage's report file carries for a partition (without message bodies)."""
    return set(SIM_PRODUCTS[product].view_columns(direction, False, False))


def watchdog(seconds: float, on_timeout: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(seconds, on_timeout)
    timer.daemon = True
    timer.start()
    return timer

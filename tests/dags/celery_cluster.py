"""Airflow on the CeleryExecutor, for real, on one machine: the tests' stand-in for several machines.

Built on the real-components runner of ``make airflow`` (:class:`AirflowComponents`: the API server, the
scheduler, the DAG processor and the triggerer, with :func:`airflow_env` and :func:`prepare_airflow`), with
the executor switched to Celery and, added here, each in its own process group and stopped by
:meth:`CeleryCluster.close`:

* ``redis-server`` (Debian's package) on a free port: the Celery broker;
* N Celery workers, each with its own name (``--celery-hostname``), its own hostname as Airflow records it
  on the task instances (``CDR_WORKER_HOSTNAME`` through ``include.devtools.worker_hostname``) and its own
  local work directory (``CDR_WORK_DIR``), as separate machines would have.

Airflow's metadata and Celery's result backend live in a database of the test's throwaway PostgreSQL: the
CeleryExecutor does not work on SQLite. The settings mirror docker-compose's ``celery`` profile
(``AIRFLOW__CELERY__BROKER_URL``, ``AIRFLOW__CELERY__RESULT_BACKEND=db+postgresql://...``, one signing
secret for every component), so what passes here is what the compose file runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict

from include.devtools.airflow_local import (
    AirflowComponents,
    ManagedProcess,
    StateLayout,
    airflow_bin,
    airflow_env,
    metadata_url,
    prepare_airflow,
    tail,
)
from include.devtools.local_postgres import free_port, scratch_database

T = TypeVar("T")

__all__ = ["CeleryCluster", "metadata_database", "wait_for"]


def wait_for(probe: Callable[[], T], timeout: float, what: str, interval: float = 2.0) -> T:
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds (no fixed sleep)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


@contextlib.contextmanager
def metadata_database(pg_admin_dsn: str) -> Iterator[str]:
    """A new database for Airflow's metadata and Celery's results, dropped afterwards; yields its conninfo."""
    with scratch_database(pg_admin_dsn, "airflow_meta") as dsn:
        yield dsn


@dataclass
class CeleryCluster:
    state: Path
    metadata_conninfo: str
    sim_base_url: str
    warehouse_dsn: str
    settings: Mapping[str, str]  # extra AIRFLOW_CONN_* and CDR_* for every component
    workers: tuple[str, ...] = ("cdr-worker-a", "cdr-worker-b")
    redis_port: int = field(default_factory=free_port)
    components: AirflowComponents | None = None
    processes: dict[str, ManagedProcess] = field(default_factory=dict)  # Redis and the workers
    env: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.layout = StateLayout(self.state).create()
        metadata = metadata_url(
            self.metadata_conninfo, str(conninfo_to_dict(self.metadata_conninfo)["dbname"])
        )
        caller = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CDR_"))}
        self.env = airflow_env(
            self.layout,
            self.sim_base_url,
            self.warehouse_dsn,
            port=free_port(),
            metadata_url=metadata,
            environ=caller,
            extra={
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": "db+"
                + metadata.replace("postgresql+psycopg2", "postgresql", 1),
                # one task at a time per worker (acks late, prefetch 1): concurrent tasks must spread out
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
                "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "include.devtools.worker_hostname.hostname",
                # only the runs the test triggers: no scheduled run for "yesterday" on unpausing
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                "PYTHONUNBUFFERED": "1",
                **self.settings,
            },
        )

    @property
    def log_dir(self) -> Path:
        return self.layout.logs / "airflow"

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def work_dir(self, worker: str) -> Path:
        return self.state / worker / "work"

    def _start(
        self,
        name: str,
        argv: list[str],
        extra_env: Mapping[str, str] | None = None,
        *,
        real_clock: bool = False,
    ) -> None:
        env = {**self.env, **(extra_env or {})}
        if real_clock:  # redis-server does not start under libfaketime (faked-date runs: README)
            env = {k: v for k, v in env.items() if k != "LD_PRELOAD" and not k.startswith("FAKETIME")}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path(name).open("ab") as log:
            self.processes[name] = ManagedProcess.start(name, argv, env=env, log=log)

    def airflow(self, *args: str, timeout: float = 600) -> str:
        """Run an ``airflow`` CLI command with the cluster's settings; fail with its output if it fails."""
        out = subprocess.run(
            [airflow_bin(), *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )
        assert out.returncode == 0, f"airflow {' '.join(args)}: {out.stdout[-2000:]}{out.stderr[-4000:]}"
        return out.stdout

    def start(self) -> CeleryCluster:
        started = time.monotonic()
        redis = shutil.which("redis-server")
        if redis is None:
            raise AssertionError(
                "redis-server is not installed: apt-get install -y redis-server (.ci/run does)"
            )
        self._start(
            "redis",
            [
                redis,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            real_clock=True,  # the broker's clock is not the pipeline's
        )
        with (self.layout.logs / "setup.log").open("ab") as log:
            prepare_airflow(self.env, log)  # airflow.cfg (one signing secret for all), migrate, the API pool
        self.timings["migrate_seconds"] = time.monotonic() - started
        self.components = AirflowComponents(self.layout, self.env).start()
        for name in self.workers:
            work = self.work_dir(name)
            work.mkdir(parents=True, exist_ok=True)
            self._start(
                name,
                [airflow_bin(), "celery", "worker", "--celery-hostname", f"{name}@%h", "--concurrency", "1",
                 "--queues", "default", "--skip-serve-logs", "--without-mingle", "--without-gossip"],
                {"CDR_WORKER_HOSTNAME": name, "CDR_WORK_DIR": str(work)},
            )  # fmt: skip
        self.components.wait_healthy(timeout=900)
        self.components.check_execution_api()
        for name in self.workers:
            wait_for(lambda name=name: self._ready(name), 600, f"Celery worker {name} ready")
        self.timings["start_seconds"] = time.monotonic() - started
        return self

    def _ready(self, worker: str) -> bool:
        self.check_alive()
        return " ready." in self.log_path(worker).read_text(errors="replace")

    def check_alive(self) -> None:
        dead = [n for n, p in self.processes.items() if not p.running()]
        dead += self.components.dead() if self.components else []
        if dead:
            raise AssertionError(f"component(s) exited: {dead}\n{self.log_tails()}")

    # -- metadata ---------------------------------------------------------------------------------------
    def query(self, statement: str, params: Any = None) -> list[tuple]:
        with psycopg.connect(self.metadata_conninfo) as conn:
            return conn.execute(statement, params).fetchall()

    def dag_parsed(self, dag_id: str) -> bool:
        self.check_alive()
        return bool(self.query("SELECT 1 FROM dag WHERE dag_id = %s AND NOT is_stale", (dag_id,)))

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        self.check_alive()
        rows = self.query("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", (dag_id, run_id))
        return rows[0][0] if rows else None

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT task_id, map_index, state, hostname, queue, try_number FROM task_instance "
            "WHERE dag_id = %s AND run_id = %s ORDER BY task_id, map_index",
            (dag_id, run_id),
        )
        keys = ("task_id", "map_index", "state", "hostname", "queue", "try_number")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def xcom_values(self, dag_id: str, run_id: str, task_id: str | None = None) -> list[Any]:
        """The return values of a task's instances (of every task when ``task_id`` is None)."""
        rows = self.query(
            "SELECT value FROM xcom WHERE dag_id = %s AND run_id = %s AND (%s::text IS NULL OR task_id = %s) "
            "AND key = 'return_value' ORDER BY task_id, map_index",
            (dag_id, run_id, task_id, task_id),
        )
        return [value for (value,) in rows]  # a JSON column: psycopg has decoded it

    # -- tear-down --------------------------------------------------------------------------------------
    def log_tails(self, lines: int = 40) -> str:
        return "\n".join(f"--- {p.name}\n{tail(p, lines)}" for p in sorted(self.log_dir.glob("*.log")))

    def close(self) -> None:
        """Stop the workers, then Airflow's components, then Redis."""
        for name in self.workers:
            proc = self.processes.pop(name, None)
            if proc is not None:
                proc.stop(first=signal.SIGTERM, grace=20)
        if self.components is not None:
            self.components.stop(say=lambda *_: None)
        for proc in self.processes.values():
            proc.stop(first=signal.SIGTERM, grace=10)
        self.processes.clear()

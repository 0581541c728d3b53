"""Airflow on the CeleryExecutor, for real, on one machine: the tests' stand-in for several machines.

What it starts (each in its own process group, all stopped by :meth:`CeleryCluster.close`):

* ``redis-server`` (Debian's package) on a free port: the Celery broker;
* the API server (UI, REST and the Execution API the tasks report to), the scheduler with the
  CeleryExecutor, the DAG processor and the triggerer;
* N Celery workers, each with its own name (``--celery-hostname``), its own hostname as Airflow records it
  on the task instances (``CDR_WORKER_HOSTNAME`` through ``include.devtools.worker_hostname``) and its own
  local work directory (``CDR_WORK_DIR``), as separate machines would have.

Airflow's metadata and Celery's result backend live in a database of the test's throwaway PostgreSQL: the
CeleryExecutor does not work on SQLite. The settings mirror docker-compose's ``celery`` profile
(``AIRFLOW__CELERY__BROKER_URL``, ``AIRFLOW__CELERY__RESULT_BACKEND=db+postgresql://...``, one JWT secret
shared by every component), so what passes here is what the compose file runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from include.devtools.airflow_local import ManagedProcess, wait_http
from include.devtools.local_postgres import free_port

ROOT = Path(__file__).resolve().parents[2]
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
    name = f"airflow_meta_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(pg_admin_dsn)
    params["dbname"] = name
    try:
        yield make_conninfo(**params)
    finally:
        with psycopg.connect(pg_admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _sqlalchemy_url(conninfo: str, driver: str) -> str:
    params = conninfo_to_dict(conninfo)
    auth = str(params.get("user", ""))
    if params.get("password"):
        from urllib.parse import quote

        auth += ":" + quote(str(params["password"]), safe="")
    return (
        f"{driver}://{auth}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{params['dbname']}"
    )


def _base_environ() -> dict[str, str]:
    """The caller's environment without any Airflow setting: the cluster must never touch another Airflow."""
    return {
        k: v
        for k, v in os.environ.items()
        if not (
            k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_"))
            or k in ("AIRFLOW_HOME", "CDR_WORK_DIR")
        )
        and not k.startswith("CDR_")
    }


@dataclass
class CeleryCluster:
    state: Path
    metadata_conninfo: str
    settings: Mapping[str, str]  # AIRFLOW_CONN_* and CDR_* for every component
    workers: tuple[str, ...] = ("cdr-worker-a", "cdr-worker-b")
    api_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    # -- set-up ---------------------------------------------------------------------------------------
    def __post_init__(self) -> None:
        home = self.state / "airflow"
        home.mkdir(parents=True, exist_ok=True)
        (self.state / "logs").mkdir(exist_ok=True)
        venv_bin = str(Path(sys.executable).parent)
        self.env = _base_environ()
        self.env.update(
            {
                "AIRFLOW_HOME": str(home),
                "PATH": os.pathsep.join([venv_bin, self.env.get("PATH", os.defpath)]),
                "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _sqlalchemy_url(
                    self.metadata_conninfo, "postgresql+psycopg2"
                ),
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": _sqlalchemy_url(self.metadata_conninfo, "db+postgresql"),
                # one task at a time per worker (acks late, prefetch 1): concurrent tasks must spread out
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
                "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "include.devtools.worker_hostname.hostname",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
                # only the runs the test triggers: no scheduled run for "yesterday" on unpausing
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
                "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
                **self.settings,
            }
        )

    def log_path(self, name: str) -> Path:
        return self.state / "logs" / f"{name}.log"

    def _start(self, name: str, argv: list[str], extra_env: Mapping[str, str] | None = None) -> None:
        with self.log_path(name).open("ab") as log:
            self.processes[name] = ManagedProcess.start(
                name, argv, env={**self.env, **(extra_env or {})}, log=log
            )

    def airflow(self, *args: str, timeout: float = 600) -> str:
        """Run an ``airflow`` CLI command with the cluster's settings; fail with its output if it fails."""
        out = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert out.returncode == 0, f"airflow {' '.join(args)}: {out.stdout[-2000:]}{out.stderr[-4000:]}"
        return out.stdout

    def work_dir(self, worker: str) -> Path:
        return self.state / worker / "work"

    def start(self, *, pools: Mapping[str, int]) -> CeleryCluster:
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
                "--dir",
                str(self.state),
            ],
        )
        self.airflow("db", "migrate", timeout=900)
        for pool, slots in pools.items():
            self.airflow("pools", "set", pool, str(slots), "test pool")
        self.timings["migrate_seconds"] = time.monotonic() - started
        airflow = str(Path(sys.executable).with_name("airflow"))
        self._start("api-server", [airflow, "api-server"])
        self._start("scheduler", [airflow, "scheduler"])
        self._start("dag-processor", [airflow, "dag-processor"])
        self._start("triggerer", [airflow, "triggerer"])
        for name in self.workers:
            work = self.work_dir(name)
            work.mkdir(parents=True, exist_ok=True)
            self._start(
                name,
                [
                    airflow,
                    "celery",
                    "worker",
                    "--celery-hostname",
                    f"{name}@%h",
                    "--concurrency",
                    "1",
                    "--queues",
                    "default",
                    "--skip-serve-logs",
                    "--without-mingle",
                    "--without-gossip",
                ],
                {"CDR_WORKER_HOSTNAME": name, "CDR_WORK_DIR": str(work)},
            )
        wait_for(self._api_healthy, 600, "the API server to answer")
        for name in self.workers:
            wait_for(lambda name=name: self._ready(name), 600, f"Celery worker {name} ready")
        self.timings["start_seconds"] = time.monotonic() - started
        return self

    def _api_healthy(self) -> bool:
        self._check_alive()
        try:
            wait_http(f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health", timeout=5)
        except TimeoutError:
            return False
        return True

    def _ready(self, worker: str) -> bool:
        self._check_alive()
        return " ready." in self.log_path(worker).read_text(errors="replace")

    def _check_alive(self) -> None:
        dead = {n: p.popen.returncode for n, p in self.processes.items() if not p.running()}
        if dead:
            raise AssertionError(f"component(s) exited: {dead}\n{self.log_tails()}")

    # -- metadata ---------------------------------------------------------------------------------------
    def query(self, statement: str, params: Any = None) -> list[tuple]:
        with psycopg.connect(self.metadata_conninfo) as conn:
            return conn.execute(statement, params).fetchall()

    def dag_parsed(self, dag_id: str) -> bool:
        self._check_alive()
        return bool(self.query("SELECT 1 FROM dag WHERE dag_id = %s AND NOT is_stale", (dag_id,)))

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        self._check_alive()
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

    def xcom_values(self, dag_id: str, run_id: str, task_id: str) -> list[Any]:
        rows = self.query(
            "SELECT value FROM xcom WHERE dag_id = %s AND run_id = %s AND task_id = %s "
            "AND key = 'return_value' ORDER BY map_index",
            (dag_id, run_id, task_id),
        )
        return [json.loads(v) if isinstance(v, str | bytes) else v for (v,) in rows]

    # -- tear-down --------------------------------------------------------------------------------------
    def log_tails(self, chars: int = 3000) -> str:
        parts = []
        for path in sorted((self.state / "logs").glob("*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"--- {path.name} (last {chars} characters)\n{text[-chars:]}")
        return "\n".join(parts)

    def close(self) -> None:
        """Stop every process: workers first (a warm shutdown finishes nothing here), Redis last."""
        order = [*self.workers, "scheduler", "triggerer", "dag-processor", "api-server", "redis"]
        for name in order:
            proc = self.processes.pop(name, None)
            if proc is not None:
                proc.stop(first=signal.SIGTERM, grace=20)
        for proc in self.processes.values():
            proc.stop(first=signal.SIGTERM, grace=20)
        self.processes.clear()

"""A local stack for trying the pipeline: the simulator, a warehouse and an Airflow home under ``.state/``.

Why this exists: ``make demo`` and ``make airflow`` must work on a fresh machine with nothing but Python
and Debian's PostgreSQL binaries. Both need the same three things, wired the way the DAGs expect them:
the Reports API simulator (a subprocess on a free port), a PostgreSQL warehouse (a persistent local
cluster, or ``CDR_WAREHOUSE_URL``) and an ``AIRFLOW_HOME`` with SQLite metadata whose environment carries
the two Airflow connections and the ``CDR_*`` settings.

Every process started here runs in its own session (process group), so it is stopped as a whole (its
children too) by :meth:`LocalStack.close`, which runs on normal exit, on errors and on SIGINT/SIGTERM:
nothing is left running after the command ends.

``python -m include.devtools.airflow_local`` (``make airflow``) runs ``airflow standalone`` in the
foreground with that environment, forwards Ctrl-C to it as SIGINT (the only signal it stops cleanly on),
then stops the simulator and PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from include.devtools.local_postgres import LocalPostgres, find_bindir, free_port

__all__ = [
    "DEFAULT_STATE_DIR",
    "ROOT",
    "LocalStack",
    "ManagedProcess",
    "StateLayout",
    "Warehouse",
    "airflow_env",
    "interrupts_raise",
]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = ROOT / ".state" / "demo"
WAREHOUSE_DB = "cdr_warehouse"
WAREHOUSE_URL_ENV = "CDR_WAREHOUSE_URL"
SIM_API_KEY = "abcd1234"
SIM_API_SECRET = "sandbox-secret-0123"  # noqa: S105 - the simulator's documented sandbox default
API_POOL = "vonage_reports_api"


@dataclass(frozen=True)
class StateLayout:
    """Where the local stack keeps its state; everything lives under one (git-ignored) directory."""

    root: Path

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def pg_data(self) -> Path:
        return self.root / "pg" / "data"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    def create(self) -> StateLayout:
        for path in (self.root, self.airflow_home, self.lake, self.work, self.logs):
            path.mkdir(parents=True, exist_ok=True)
        # When we run as root, PostgreSQL runs as the `postgres` OS user: it must be able to reach pg/.
        self.root.chmod(0o755)
        return self


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived; raised so that ``finally`` blocks stop what we started."""


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` (even when the shell started us ignoring SIGINT)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def interrupts_ignored() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while we clean up, so a second Ctrl-C cannot leave processes behind."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _default_sigint() -> None:
    """In the child: take SIGINT back to default (a background job of a shell starts with it ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@dataclass
class ManagedProcess:
    """A subprocess in its own session; :meth:`stop` signals its whole process group."""

    name: str
    popen: subprocess.Popen[bytes]

    @classmethod
    def start(
        cls, name: str, argv: list[str], *, env: Mapping[str, str], log: IO[bytes], cwd: Path = ROOT
    ) -> ManagedProcess:
        popen = subprocess.Popen(
            argv,
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_sigint,  # only resets a signal disposition before exec
        )
        return cls(name, popen)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def _signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)

    def stop(self, first: signal.Signals = signal.SIGTERM, grace: float = 20.0) -> int | None:
        """Signal the group with ``first``, then SIGTERM, then SIGKILL; reap the leader; return its code."""
        for sig, wait in ((first, grace), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            if self.running():
                self._signal_group(sig)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(wait)
        # The leader may be gone while children of its group still run: they must not outlive us.
        if self._group_alive():
            time.sleep(1.0)
            self._signal_group(signal.SIGKILL)
        return self.popen.poll()

    def _group_alive(self) -> bool:
        try:
            os.killpg(self.popen.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


def wait_http(url: str, timeout: float, proc: ManagedProcess | None = None) -> None:
    """Wait until ``url`` answers HTTP at all (any status); fail early if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.running():
            raise RuntimeError(f"{proc.name} exited with code {proc.popen.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a local http:// URL we built
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s")


@dataclass
class Warehouse:
    """The warehouse the DAGs load: a local persistent cluster, or the server of ``CDR_WAREHOUSE_URL``."""

    dsn: str  # psycopg conninfo of the warehouse database
    server: LocalPostgres | None = None

    @property
    def local(self) -> bool:
        return self.server is not None

    @property
    def pid(self) -> int | None:
        if self.server is None or self.server.data_dir is None:
            return None
        pid_file = self.server.data_dir / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(pid_file.read_text().splitlines()[0])
        return None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def psql_command(self) -> str:
        """How a user opens a psql prompt on the warehouse (while the server runs)."""
        params = conninfo_to_dict(self.dsn)
        params.pop("password", None)
        url = (
            f"postgresql://{params.get('user', '')}@{params.get('host', '127.0.0.1')}:"
            f"{params.get('port', 5432)}/{params.get('dbname', '')}"
        )
        psql = "psql"
        with contextlib.suppress(Exception):
            candidate = find_bindir() / "psql"
            if candidate.exists() and not _on_path("psql"):
                psql = str(candidate)
        return f'{psql} "{url}"'


def _on_path(program: str) -> bool:
    import shutil

    return shutil.which(program) is not None


def start_warehouse(layout: StateLayout, port: int | None = None) -> Warehouse:
    """``CDR_WAREHOUSE_URL`` if set; else start (creating on first use) the cluster in ``layout.pg_data``."""
    given = os.environ.get(WAREHOUSE_URL_ENV)
    if given:
        from include.vonage_cdr.warehouse.migrate import libpq_dsn

        return Warehouse(dsn=libpq_dsn(given))
    import psycopg
    from psycopg import sql

    server = LocalPostgres(data_dir=layout.pg_data, port=port)
    warehouse = Warehouse(dsn="", server=server)
    server.start()
    try:
        with psycopg.connect(server.dsn, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (WAREHOUSE_DB,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(WAREHOUSE_DB)))
    except BaseException:
        server.stop()
        raise
    params = conninfo_to_dict(server.dsn)
    params["dbname"] = WAREHOUSE_DB
    warehouse.dsn = make_conninfo(**params)
    return warehouse


def _scrubbed_environ() -> dict[str, str]:
    """Our environment without any Airflow setting of the caller: the stack must never touch their Airflow."""
    return {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) or k == "AIRFLOW_HOME")
    }


def connection_env(vonage_base_url: str, api_key: str, api_secret: str, warehouse_dsn: str) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables for the Vonage API (simulator) and the warehouse (a libpq conninfo)."""
    pg = conninfo_to_dict(warehouse_dsn)
    vonage = {
        "conn_type": "http",
        "host": vonage_base_url,
        "login": api_key,
        "password": api_secret,
        "extra": {"account_id": api_key},
    }
    warehouse = {
        "conn_type": "postgres",
        "host": pg.get("host", "127.0.0.1"),
        "port": int(pg.get("port", 5432)),
        "login": pg.get("user"),
        "password": pg.get("password"),
        "schema": pg.get("dbname", WAREHOUSE_DB),
        "extra": {k: v for k, v in pg.items() if k in ("sslmode", "sslrootcert")},
    }
    return {
        "AIRFLOW_CONN_VONAGE_DEFAULT": json.dumps(vonage),
        "AIRFLOW_CONN_CDR_WAREHOUSE": json.dumps(warehouse),
    }


def airflow_env(
    layout: StateLayout,
    sim_base_url: str,
    warehouse_dsn: str,
    *,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of every Airflow command: private home, the two connections, ``CDR_*`` settings."""
    env = _scrubbed_environ()
    env.update(
        {
            "AIRFLOW_HOME": str(layout.airflow_home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{layout.airflow_home / 'airflow.db'}",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
            # standalone starts its components as `airflow ...` from PATH: the venv's must come first.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)]),
            **connection_env(sim_base_url, SIM_API_KEY, SIM_API_SECRET, warehouse_dsn),
            "CDR_LAKE_ROOT": str(layout.lake),
            "CDR_WORK_DIR": str(layout.work),
            "CDR_REPORT_DIR": str(layout.root / "reports"),
            "CDR_SETTLEMENT_DELAY_HOURS": "0",
            "CDR_REPORT_POLL_SECONDS": "1",
            "CDR_REPORT_INITIAL_DELAY_SECONDS": "1",
            "CDR_RETRY_DELAY_SECONDS": "5",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class LocalStack:
    """The simulator and the warehouse, started together and always stopped together."""

    layout: StateLayout
    records_per_day: int = 500
    pg_port: int | None = None
    say: object = print
    simulator: ManagedProcess | None = None
    sim_base_url: str = ""
    warehouse: Warehouse | None = None
    _logs: list[IO[bytes]] = field(default_factory=list)

    def _say(self, text: str) -> None:
        self.say(text)  # type: ignore[operator]

    def start(self) -> LocalStack:
        self.layout.create()
        port = free_port()
        log = (self.layout.logs / "simulator.log").open("ab")
        self._logs.append(log)
        env = _scrubbed_environ()
        env.update(
            {
                "PORT": str(port),
                "SIM_HOST": "127.0.0.1",
                "SIM_PACE": "fast",
                "SIM_RECORDS_PER_DAY": str(self.records_per_day),
                "VONAGE_API_KEY": SIM_API_KEY,
                "VONAGE_API_SECRET": SIM_API_SECRET,
                "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.sim_base_url = f"http://127.0.0.1:{port}"
        self.simulator = ManagedProcess.start(
            "simulator", [sys.executable, "-m", "include.simulator"], env=env, log=log
        )
        wait_http(f"{self.sim_base_url}/v2/reports?status=SUCCESS", timeout=60, proc=self.simulator)
        self._say(
            f"  simulator    {self.sim_base_url} (pid {self.simulator.pid}, "
            f"{self.records_per_day} records/day)"
        )
        self.warehouse = start_warehouse(self.layout, self.pg_port)
        if self.warehouse.local:
            self._say(
                f"  PostgreSQL   127.0.0.1:{self.warehouse.server.port} (pid {self.warehouse.pid}, "  # type: ignore[union-attr]
                f"data {self.layout.pg_data})"
            )
        else:
            self._say(
                f"  warehouse    {WAREHOUSE_URL_ENV} "
                f"(database {conninfo_to_dict(self.warehouse.dsn).get('dbname')})"
            )
        return self

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        assert self.warehouse is not None
        return airflow_env(self.layout, self.sim_base_url, self.warehouse.dsn, extra=extra)

    def close(self) -> None:
        """Stop the simulator and the local PostgreSQL; safe to call twice or after a failed start."""
        with interrupts_ignored():
            if self.simulator is not None:
                pid = self.simulator.pid
                self.simulator.stop(first=signal.SIGTERM, grace=10)
                self._say(f"  stopped simulator (pid {pid})")
                self.simulator = None
            if self.warehouse is not None and self.warehouse.local:
                pid = self.warehouse.pid
                self.warehouse.stop()
                self._say(f"  stopped PostgreSQL (pid {pid}); its data stays in {self.layout.pg_data}")
            self.warehouse = None if self.warehouse is None or self.warehouse.local else self.warehouse
            for log in self._logs:
                log.close()
            self._logs.clear()


def run_logged(argv: list[str], env: Mapping[str, str], log: IO[bytes], *, timeout: float) -> int:
    """Run one command with its output appended to ``log``; stop its whole group on interrupts."""
    log.write(f"\n$ {' '.join(argv)}\n".encode())
    log.flush()
    proc = ManagedProcess.start(Path(argv[0]).name, argv, env=env, log=log)
    try:
        return proc.popen.wait(timeout)
    except subprocess.TimeoutExpired:
        log.write(f"\n!! timed out after {timeout:.0f} s\n".encode())
        return 124
    finally:
        if proc.running():
            with interrupts_ignored():
                proc.stop(first=signal.SIGINT, grace=15)


def airflow_bin() -> str:
    """The ``airflow`` script of the interpreter running us (the project's .venv under make)."""
    candidate = Path(sys.executable).parent / "airflow"
    return str(candidate) if candidate.exists() else "airflow"


def prepare_airflow(env: Mapping[str, str], log: IO[bytes]) -> None:
    """Migrate the metadata database and create the API pool (both idempotent)."""
    for argv in (
        [airflow_bin(), "db", "migrate"],
        [airflow_bin(), "pools", "set", API_POOL, "4", "Vonage Reports API"],
    ):
        if run_logged(argv, env, log, timeout=300) != 0:
            raise RuntimeError(f"`{' '.join(argv[1:])}` failed")


def _print_login(layout: StateLayout, url: str) -> None:
    files = sorted(layout.airflow_home.glob("simple_auth_manager_passwords.json*"))
    print(f"Airflow UI: {url}")
    for path in files:
        with contextlib.suppress(OSError, ValueError):
            users = json.loads(path.read_text())
            for user, password in users.items():
                print(f"  log in as {user} / {password}   (from {path})")
            return
    print(
        f"  the admin password is written to "
        f"{layout.airflow_home}/simple_auth_manager_passwords.json.generated"
    )


def run_standalone(args: argparse.Namespace) -> int:
    layout = StateLayout(Path(args.state_dir).resolve())
    stack = LocalStack(layout, records_per_day=args.records_per_day)
    print(f"Local stack, state in {layout.root}")
    standalone: ManagedProcess | None = None
    code = 1
    try:
        with interrupts_raise():
            stack.start()
            extra = {"AIRFLOW__API__PORT": str(args.port)}
            env = stack.env(extra)
            log_path = layout.logs / "airflow-setup.log"
            with log_path.open("ab") as log:
                print(f"  preparing Airflow metadata (log: {log_path})")
                prepare_airflow(env, log)
            url = f"http://127.0.0.1:{args.port}"
            standalone = ManagedProcess.start(
                "airflow standalone", [airflow_bin(), "standalone"], env=env, log=sys.stdout.buffer
            )
            print(f"  airflow standalone (pid {standalone.pid}); waiting until {url} is healthy ...")
            wait_http(f"{url}/api/v2/monitor/health", timeout=180, proc=standalone)
            time.sleep(2)  # the password file is written as the api-server comes up
            print()
            _print_login(layout, url)
            print(
                "  DAGs start paused: unpause vonage_cdr_daily / vonage_cdr_incremental in the UI,\n"
                '  or trigger a run (daily: conf {"day": "YYYY-MM-DD"}). Backfill from the UI\'s\n'
                "  'Backfill' dialog of vonage_cdr_daily; the scheduler runs the queued days.\n"
                "  Stop: press Ctrl-C once (standalone stops on SIGINT; simulator and PostgreSQL follow).\n",
                flush=True,
            )
            code = standalone.popen.wait()
    except Interrupted:
        print("\nInterrupted: stopping Airflow, the simulator and PostgreSQL ...", flush=True)
        code = 0
    except Exception as exc:
        print(f"make airflow failed: {exc}", file=sys.stderr)
        code = 1
    finally:
        with interrupts_ignored():
            if standalone is not None and standalone.running():
                standalone.stop(first=signal.SIGINT, grace=30)
                print(f"  stopped airflow standalone (pid {standalone.pid})")
            stack.close()
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.devtools.airflow_local",
        description="Run the Airflow UI (airflow standalone) with the simulator and a local warehouse.",
    )
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR), help="default: .state/demo")
    parser.add_argument("--port", type=int, default=int(os.environ.get("AIRFLOW_PORT", "8080")))
    parser.add_argument("--records-per-day", type=int, default=500)
    return run_standalone(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

"""A local stack for trying the pipeline: the simulator, a warehouse and an Airflow home under ``.state/``.

Why this exists: ``make demo`` and ``make airflow`` must work on a fresh machine with nothing but Python
and Debian's PostgreSQL binaries. Both need the same three things, wired the way the DAGs expect them:
the Reports API simulator (a subprocess on a free port), a PostgreSQL warehouse (a persistent local
cluster, or ``CDR_WAREHOUSE_URL``) and an ``AIRFLOW_HOME`` (its metadata in that cluster) whose
environment carries the two Airflow connections and the ``CDR_*`` settings.

Every process started here runs in its own session (process group), so it is stopped as a whole (its
children too) by :meth:`LocalStack.close`, which runs on normal exit, on errors and on SIGINT/SIGTERM:
nothing is left running after the command ends.

``python -m include.devtools.airflow_local`` (``make airflow``) runs the four components of a real
Airflow 3 deployment (:class:`AirflowComponents`: API server, scheduler with the LocalExecutor, DAG
processor, triggerer) bound to 127.0.0.1, each logging to its own file; the console gets a few status
lines, the components' error lines, and last the UI address and the admin login. The Execution API URL
follows ``--port``; exported ``AIRFLOW__*`` settings are honoured except :data:`PROTECTED_SETTINGS`.
The same settings are written to the home's ``airflow.cfg``, so ``make airflow-cli`` runs plain
``airflow`` commands against this set-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
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
    "PROTECTED_SETTINGS",
    "ROOT",
    "AirflowComponents",
    "LocalStack",
    "ManagedProcess",
    "StateLayout",
    "Warehouse",
    "airflow_env",
    "interrupts_raise",
    "prepare_airflow",
]

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_STATE_DIR = ROOT / ".state" / "demo"
WAREHOUSE_DB = "cdr_warehouse"
METADATA_DB = "airflow_metadata"
WAREHOUSE_URL_ENV = "CDR_WAREHOUSE_URL"
SIM_API_KEY = "abcd1234"
SIM_API_SECRET = "sandbox-secret-0123"  # noqa: S105 - the simulator's documented sandbox default
API_POOL = "vonage_reports_api"
API_POOL_SLOTS = 4
#: how often the component logs are scanned for error lines to echo on the console
ECHO_INTERVAL_S = 2.0
API_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"


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
    metadata_url: str | None = None  # Airflow's metadata in the local cluster (None: SQLite)

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
            for name in (WAREHOUSE_DB, METADATA_DB):
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
                if not exists:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except BaseException:
        server.stop()
        raise
    params = conninfo_to_dict(server.dsn)
    params["dbname"] = WAREHOUSE_DB
    warehouse.dsn = make_conninfo(**params)
    warehouse.metadata_url = metadata_url(server.dsn, METADATA_DB)
    return warehouse


def metadata_url(server_dsn: str, dbname: str) -> str:
    """A SQLAlchemy URL for Airflow's metadata in database ``dbname`` of the server of ``server_dsn``.

    PostgreSQL, not SQLite: four components and the CLI write to it at once, and SQLite then fails
    with "database is locked" (seen with `airflow backfill create` next to a busy scheduler).
    """
    params = conninfo_to_dict(server_dsn)
    auth = str(params.get("user", ""))
    if params.get("password"):
        from urllib.parse import quote

        auth += ":" + quote(str(params["password"]), safe="")
    host, port = params.get("host", "127.0.0.1"), params.get("port", 5432)
    return f"postgresql+psycopg2://{auth}@{host}:{port}/{dbname}"


#: Settings the local set-up must own: honouring a caller's value would point it at another Airflow's
#: metadata, DAGs or (for the connections) at the real Vonage API. Everything else exported as
#: ``AIRFLOW__*`` (or ``AIRFLOW_CONN_*``/``AIRFLOW_VAR_*``) in the caller's shell is honoured.
PROTECTED_SETTINGS = frozenset(
    {
        "AIRFLOW_HOME",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
        "AIRFLOW__CORE__DAGS_FOLDER",
        "AIRFLOW__CORE__PLUGINS_FOLDER",
        "AIRFLOW__CORE__LOAD_EXAMPLES",
        "AIRFLOW_CONN_VONAGE_DEFAULT",
        "AIRFLOW_CONN_CDR_WAREHOUSE",
    }
)


def _is_airflow_setting(name: str) -> bool:
    return name.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) or name == "AIRFLOW_HOME"


def _scrubbed_environ(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without any Airflow setting (those are merged back selectively)."""
    environ = os.environ if environ is None else environ
    return {k: v for k, v in environ.items() if not _is_airflow_setting(k)}


def caller_overrides(environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The caller's exported Airflow settings we honour, and the names we ignore (PROTECTED_SETTINGS)."""
    environ = os.environ if environ is None else environ
    honoured: dict[str, str] = {}
    ignored: list[str] = []
    for name, value in sorted(environ.items()):
        if not _is_airflow_setting(name):
            continue
        if name in PROTECTED_SETTINGS:
            ignored.append(name)
        else:
            honoured[name] = value
    return honoured, ignored


def resolve_port(explicit: int | None, environ: Mapping[str, str] | None = None) -> int:
    """``--port``, else an exported ``AIRFLOW__API__PORT``, else ``AIRFLOW_PORT``, else 8080."""
    environ = os.environ if environ is None else environ
    if explicit is not None:
        return explicit
    for name in ("AIRFLOW__API__PORT", "AIRFLOW_PORT"):
        if environ.get(name):
            return int(environ[name])
    return DEFAULT_PORT


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


def local_airflow_settings(
    layout: StateLayout, port: int = DEFAULT_PORT, metadata_url: str | None = None
) -> dict[str, str]:
    """Airflow settings of the local set-up, as ``AIRFLOW__SECTION__KEY`` names (also written to airflow.cfg).

    Local only: the API server binds 127.0.0.1, and the Execution API URL the workers and the triggerer
    call follows the port. The API server's access log (one line per UI request) is off. Metadata
    lives in the local PostgreSQL cluster (``metadata_url``), or SQLite when the warehouse is a server
    of ``CDR_WAREHOUSE_URL`` (no database is created there).
    """
    sqlite = f"sqlite:///{layout.airflow_home / 'airflow.db'}"
    return {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url or sqlite,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://{API_HOST}:{port}/execution/",
        "AIRFLOW__API__HOST": API_HOST,
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__LOGGING__NAMESPACE_LEVELS": "http.access=WARNING",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
    }


def airflow_env(
    layout: StateLayout,
    sim_base_url: str | None,
    warehouse_dsn: str | None,
    *,
    port: int = DEFAULT_PORT,
    metadata_url: str | None = None,
    extra: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of every Airflow command of the local set-up.

    Layers, later ones win: the caller's environment without Airflow settings; the local set-up's
    settings (:func:`local_airflow_settings`); the caller's exported ``AIRFLOW__*`` settings except
    :data:`PROTECTED_SETTINGS`; the two connections and the ``CDR_*`` settings; ``extra``. The
    Execution API URL follows the final API host and port unless the caller exported one.
    """
    environ = os.environ if environ is None else environ
    env = _scrubbed_environ(environ)
    env.update(local_airflow_settings(layout, port, metadata_url))
    honoured, _ignored = caller_overrides(environ)
    env.update(honoured)
    if "AIRFLOW__CORE__EXECUTION_API_SERVER_URL" not in honoured:
        host = env["AIRFLOW__API__HOST"]
        host = API_HOST if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - comparing, not binding
        env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = (
            f"http://{host}:{env['AIRFLOW__API__PORT']}/execution/"
        )
    env.update(
        {
            "AIRFLOW_HOME": str(layout.airflow_home),
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins")]),
            # components start tasks as `airflow ...` from PATH: the venv's must come first.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)]),
            "CDR_LAKE_ROOT": str(layout.lake),
            "CDR_WORK_DIR": str(layout.work),
            "CDR_REPORT_DIR": env.get("CDR_REPORT_DIR") or str(layout.root / "reports"),
            "CDR_SETTLEMENT_DELAY_HOURS": env.get("CDR_SETTLEMENT_DELAY_HOURS") or "0",
            "CDR_REPORT_POLL_SECONDS": env.get("CDR_REPORT_POLL_SECONDS") or "1",
            "CDR_REPORT_INITIAL_DELAY_SECONDS": env.get("CDR_REPORT_INITIAL_DELAY_SECONDS") or "1",
            "CDR_RETRY_DELAY_SECONDS": env.get("CDR_RETRY_DELAY_SECONDS") or "5",
        }
    )
    if sim_base_url and warehouse_dsn:
        env.update(connection_env(sim_base_url, SIM_API_KEY, SIM_API_SECRET, warehouse_dsn))
    env.update(extra or {})
    return env


def write_airflow_cfg(layout: StateLayout, env: Mapping[str, str]) -> Path:
    """Write the environment's ``AIRFLOW__SECTION__KEY`` settings into ``AIRFLOW_HOME/airflow.cfg``.

    So that a plain ``airflow`` command with this ``AIRFLOW_HOME`` (``make airflow-cli``) sees the
    local set-up (its DAGs, no examples, its metadata) instead of Airflow's defaults. Keys already
    in the file (the secrets Airflow generated) are kept; ours are set. The signing secrets every
    component must share are generated once if missing.
    """
    import configparser
    import secrets

    path = layout.airflow_home / "airflow.cfg"
    cfg = configparser.RawConfigParser()
    cfg.optionxform = str  # type: ignore[assignment,method-assign]
    if path.exists():
        cfg.read(path)
    for name, value in env.items():
        if not name.startswith("AIRFLOW__") or name.endswith(("_CMD", "_SECRET")) or "%" in value:
            continue
        section, _, key = name[len("AIRFLOW__") :].partition("__")
        if not section or not key:
            continue
        section, key = section.lower(), key.lower()
        if not cfg.has_section(section):
            cfg.add_section(section)
        cfg.set(section, key, value)
    for section, key in (("api_auth", "jwt_secret"), ("api", "secret_key")):
        if not cfg.has_section(section):
            cfg.add_section(section)
        if not cfg.has_option(section, key) or not cfg.get(section, key):
            cfg.set(section, key, secrets.token_urlsafe(32))
    tmp = path.with_suffix(".cfg.tmp")
    with tmp.open("w") as fh:
        fh.write("# Written by include/devtools/airflow_local.py for `make airflow` / `make airflow-cli`.\n")
        cfg.write(fh)
    tmp.chmod(0o600)
    tmp.replace(path)
    return path


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

    def env(self, extra: Mapping[str, str] | None = None, port: int = DEFAULT_PORT) -> dict[str, str]:
        assert self.warehouse is not None
        return airflow_env(
            self.layout,
            self.sim_base_url,
            self.warehouse.dsn,
            port=port,
            metadata_url=self.warehouse.metadata_url,
            extra=extra,
        )

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


def pool_command(env: Mapping[str, str]) -> list[str]:
    """``airflow pools set`` for the Reports API pool, counting deferred tasks.

    A report wait is a deferred task: without ``--include-deferred`` the pool counts only running
    tasks, so every report of a backfill would be in flight at once (and polled, and billed) while
    the pool shows free slots.
    """
    name = env.get("CDR_API_POOL") or API_POOL
    slots = env.get("CDR_API_POOL_SLOTS") or str(API_POOL_SLOTS)
    description = "Vonage Reports API: reports in flight (deferred waits included) and sync calls"
    return [airflow_bin(), "pools", "set", name, slots, description, "--include-deferred"]


def prepare_airflow(env: Mapping[str, str], log: IO[bytes]) -> None:
    """Write airflow.cfg, migrate the metadata database and set the API pool (all idempotent)."""
    write_airflow_cfg(StateLayout(Path(env["AIRFLOW_HOME"]).parent), env)
    for argv in ([airflow_bin(), "db", "migrate"], pool_command(env)):
        if run_logged(argv, env, log, timeout=300) != 0:
            raise RuntimeError(f"`{' '.join(argv[1:])}` failed (log: {log.name})")


def read_admin_password(layout: StateLayout) -> tuple[str, str] | None:
    """The simple auth manager's generated admin login, once the API server has written it."""
    path = layout.airflow_home / "simple_auth_manager_passwords.json.generated"
    with contextlib.suppress(OSError, ValueError):
        users = json.loads(path.read_text())
        if isinstance(users, dict) and users.get("admin"):
            return "admin", str(users["admin"])
    return None


#: The components of a real Airflow 3 deployment, as ``airflow <name>`` subcommands.
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
_ERROR_LINE = re.compile(r"\[(error|critical)\s*\]|\b(ERROR|CRITICAL)\b")


@dataclass
class AirflowComponents:
    """The API server, scheduler (LocalExecutor), DAG processor and triggerer, each in its own process.

    Not ``airflow standalone``: each component writes to its own log file (the console stays quiet),
    each stops on SIGTERM, and the same class runs the tests' real-components check. Start them with
    the environment of :func:`airflow_env`, after :func:`prepare_airflow`.
    """

    layout: StateLayout
    env: Mapping[str, str]
    processes: dict[str, ManagedProcess] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def log_dir(self) -> Path:
        return self.layout.logs / "airflow"

    @property
    def url(self) -> str:
        host = self.env.get("AIRFLOW__API__HOST", API_HOST)
        host = API_HOST if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - comparing, not binding
        return f"http://{host}:{self.env.get('AIRFLOW__API__PORT', DEFAULT_PORT)}"

    @property
    def execution_api_url(self) -> str:
        return self.env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]

    def log_path(self, component: str) -> Path:
        return self.log_dir / f"{component}.log"

    def start(self) -> AirflowComponents:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in COMPONENTS:
            log = self.log_path(name).open("ab")
            self._logs.append(log)
            self.processes[name] = ManagedProcess.start(name, [airflow_bin(), name], env=self.env, log=log)
        return self

    def dead(self) -> list[str]:
        return [name for name, proc in self.processes.items() if not proc.running()]

    def health(self) -> dict[str, str]:
        """Status of each component as the API server reports it (empty while it does not answer)."""
        try:
            with urllib.request.urlopen(f"{self.url}/api/v2/monitor/health", timeout=10) as resp:  # noqa: S310
                body = json.loads(resp.read())
        except (OSError, ValueError):
            return {}
        return {name: str(part.get("status")) for name, part in body.items() if isinstance(part, dict)}

    def wait_healthy(self, timeout: float = 300.0) -> None:
        """Until the metadata DB, scheduler, triggerer and DAG processor report healthy; fail if one dies."""
        deadline = time.monotonic() + timeout
        wanted = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        status: dict[str, str] = {}
        while time.monotonic() < deadline:
            if dead := self.dead():
                raise RuntimeError(
                    f"{dead[0]} exited with code {self.processes[dead[0]].popen.returncode}; "
                    f"last lines of {self.log_path(dead[0])}:\n{tail(self.log_path(dead[0]), 30)}"
                )
            status = self.health()
            if status and all(status.get(name) == "healthy" for name in wanted):
                return
            time.sleep(1.0)
        raise TimeoutError(f"Airflow was not healthy within {timeout:.0f} s: {status or 'no answer'}")

    def check_execution_api(self, timeout: float = 120.0) -> None:
        """Tasks and triggers report to this URL: fail now, with the reason, if it does not answer.

        Called once the API server is healthy: a busy one may answer slowly (retried until
        ``timeout``); a refused connection or an HTTP error means the URL points elsewhere: fail at once.
        """
        url = self.execution_api_url.rstrip("/") + "/health"
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=20) as resp:  # noqa: S310 - a local URL we built
                    json.loads(resp.read())
                return
            except (urllib.error.HTTPError, ValueError, ConnectionRefusedError) as exc:
                problem: Exception = exc
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, ConnectionRefusedError):
                    problem = exc
                elif time.monotonic() < deadline:
                    time.sleep(2.0)
                    continue
                else:
                    problem = exc
            except OSError as exc:
                if time.monotonic() < deadline:
                    time.sleep(2.0)
                    continue
                problem = exc
            raise RuntimeError(
                f"the Execution API at {self.execution_api_url} does not answer ({problem}): every task "
                "would fail. Unset AIRFLOW__CORE__EXECUTION_API_SERVER_URL or point it at this API server."
            ) from problem

    def stop(self, say: object = print) -> None:
        with interrupts_ignored():
            for name in reversed(COMPONENTS):
                proc = self.processes.pop(name, None)
                if proc is not None:
                    proc.stop(first=signal.SIGTERM, grace=30)
                    say(f"  stopped {name} (pid {proc.pid})")  # type: ignore[operator]
            for log in self._logs:
                log.close()
            self._logs.clear()


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


class ErrorEcho(threading.Thread):
    """Copy the components' error lines to the console, so a failing task or component is not missed.

    The components log to files (the console would otherwise get thousands of lines an hour); an
    error there, such as a worker that cannot reach the Execution API, is printed with its file.
    """

    def __init__(self, components: AirflowComponents, out: IO[str] = sys.stdout) -> None:
        super().__init__(name="airflow-error-echo", daemon=True)
        self.components = components
        self.out = out
        self.stopped = threading.Event()
        # from the current end of each log: what came before was printed, or is start-up noise
        self.offsets = {
            name: components.log_path(name).stat().st_size
            for name in COMPONENTS
            if components.log_path(name).exists()
        }

    def run(self) -> None:
        offsets = self.offsets
        while not self.stopped.is_set():
            # time.sleep, not stopped.wait(): under faketime a timed lock wait does not expire
            time.sleep(ECHO_INTERVAL_S)
            for name in COMPONENTS:
                path = self.components.log_path(name)
                with contextlib.suppress(OSError), path.open("rb") as fh:
                    fh.seek(offsets.get(name, 0))
                    data = fh.read()
                    offsets[name] = fh.tell()
                    for line in data.decode(errors="replace").splitlines():
                        if _ERROR_LINE.search(line):
                            print(f"  {name}: {line.strip()[:400]}   ({path})", file=self.out, flush=True)


def runtime_file(layout: StateLayout) -> Path:
    """Where a running ``make airflow`` says how to reach its simulator and warehouse (for airflow-cli)."""
    return layout.airflow_home / "local-stack.json"


def run_local_airflow(args: argparse.Namespace) -> int:
    layout = StateLayout(Path(args.state_dir).resolve())
    stack = LocalStack(layout, records_per_day=args.records_per_day)
    port = resolve_port(args.port)
    honoured, ignored = caller_overrides()
    print(f"Local Airflow with the simulator and a warehouse; state in {layout.root}")
    for name in honoured:
        print(f"  honouring your {name}")
    for name in ignored:
        print(f"  ignoring your {name}: the local set-up keeps its own")
    airflow: AirflowComponents | None = None
    echo: ErrorEcho | None = None
    code = 1
    try:
        with interrupts_raise():
            stack.start()
            assert stack.warehouse is not None
            env = stack.env(port=port)
            setup_log = layout.logs / "airflow-setup.log"
            with setup_log.open("ab") as log:
                print(f"  preparing Airflow metadata and the pool (log: {setup_log})", flush=True)
                prepare_airflow(env, log)
            airflow = AirflowComponents(layout, env).start()
            print(f"  starting {', '.join(COMPONENTS)} (logs: {airflow.log_dir}/) ...", flush=True)
            airflow.wait_healthy(timeout=300)
            airflow.check_execution_api()
            running = {
                "sim_base_url": stack.sim_base_url,
                "warehouse_dsn": stack.warehouse.dsn,
                "metadata_url": stack.warehouse.metadata_url,
                "port": port,
            }
            runtime_file(layout).write_text(json.dumps(running))
            login = None
            deadline = time.monotonic() + 30
            while login is None and time.monotonic() < deadline:
                login = read_admin_password(layout)
                if login is None:
                    time.sleep(0.5)
            echo = ErrorEcho(airflow)
            echo.start()
            print_banner(airflow, layout, login)
            while not airflow.dead():
                time.sleep(1.0)
            dead = airflow.dead()[0]
            print(f"\n{dead} stopped unexpectedly; last lines of {airflow.log_path(dead)}:", file=sys.stderr)
            print(tail(airflow.log_path(dead)), file=sys.stderr)
    except Interrupted:
        print("\nInterrupted: stopping Airflow, the simulator and PostgreSQL ...", flush=True)
        code = 0
    except Exception as exc:
        print(f"make airflow failed: {exc}", file=sys.stderr)
        code = 1
    finally:
        with interrupts_ignored():
            if echo is not None:
                echo.stopped.set()
            with contextlib.suppress(OSError):
                runtime_file(layout).unlink()
            if airflow is not None:
                airflow.stop()
            stack.close()
    return code


def print_banner(airflow: AirflowComponents, layout: StateLayout, login: tuple[str, str] | None) -> None:
    """What to do next, then the UI address and the login: the last lines the command prints."""
    print(
        "\n  DAGs start paused: unpause vonage_cdr_daily / vonage_cdr_incremental in the UI, or trigger\n"
        '  a run (an empty form loads the last settled day; conf {"day": "YYYY-MM-DD"} picks one).\n'
        '  Airflow CLI on this set-up:  make airflow-cli ARGS="dags list"\n'
        f"  Component logs: {airflow.log_dir}/ (errors are echoed here).\n"
        "  Stop: Ctrl-C (Airflow, the simulator and PostgreSQL stop together).\n"
    )
    print(f"Airflow UI: {airflow.url}   (this machine only)")
    if login is not None:
        print(f"Log in as:  {login[0]} / {login[1]}", flush=True)
    else:
        print(
            f"Log in as:  admin / the password in {layout.airflow_home}/"
            "simple_auth_manager_passwords.json.generated",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.devtools.airflow_local",
        description="Run Airflow (API server, scheduler, DAG processor, triggerer) with the simulator and "
        "a local warehouse, bound to 127.0.0.1.",
    )
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR), help="default: .state/demo")
    parser.add_argument(
        "--port", type=int, default=None, help="UI/API port (default: AIRFLOW__API__PORT, AIRFLOW_PORT, 8080)"
    )
    parser.add_argument("--records-per-day", type=int, default=500)
    return run_local_airflow(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())

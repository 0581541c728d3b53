"""A throwaway or persistent local PostgreSQL server, for the tests and the demo.

Why this exists: the project must run on a fresh machine with no database server and no Docker.
Debian's server binaries are usually installed, but ``initdb`` and ``pg_ctl`` refuse to run as
root; when we are root we run them as the ``postgres`` OS user that the Debian package creates,
on a data directory we chown to it. The server listens on 127.0.0.1 only, on a free port, with
trust authentication: it is a development server and never holds anything but test or demo data.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LocalPostgres",
    "PostgresNotAvailable",
    "find_bindir",
    "free_port",
    "scratch_database",
    "throwaway_postgres",
]


class PostgresNotAvailable(RuntimeError):
    """No PostgreSQL server binaries were found; the message says how to install them."""


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_bindir() -> Path:
    """Locate the directory holding initdb, pg_ctl and postgres.

    Order: ``CDR_PG_BINDIR``; Debian's ``/usr/lib/postgresql/<newest>/bin``; ``initdb`` on PATH.
    """
    explicit = os.environ.get("CDR_PG_BINDIR")
    if explicit:
        return Path(explicit)
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise PostgresNotAvailable(
        "No PostgreSQL server binaries found (initdb). Install them, e.g. "
        "`apt-get install -y postgresql-15`, set CDR_PG_BINDIR, or point CDR_TEST_DATABASE_URL / "
        "CDR_WAREHOUSE_URL at an existing server."
    )


@dataclass
class LocalPostgres:
    """One local cluster: ``start()`` creates it if needed and runs it; ``stop()`` stops it.

    With ``data_dir=None`` the cluster lives in a temporary directory removed by ``stop()``;
    with a path it persists there between runs (the demo keeps its warehouse this way).
    """

    data_dir: Path | None = None
    port: int | None = None
    fsync: bool = False
    _tmp: Path | None = None
    _run_as: str | None = None

    @property
    def superuser(self) -> str:
        return self._run_as or getpass.getuser()

    @property
    def dsn(self) -> str:
        """A psycopg conninfo for the superuser's ``postgres`` database."""
        return f"postgresql://{self.superuser}@127.0.0.1:{self.port}/postgres"

    def _cmd(self, *args: str) -> list[str]:
        if self._run_as:
            return ["runuser", "-u", self._run_as, "--", *args]
        return list(args)

    def _prepare_owner(self, path: Path) -> None:
        if self._run_as:
            pw = pwd.getpwnam(self._run_as)
            for p in [path, *path.rglob("*")]:
                os.chown(p, pw.pw_uid, pw.pw_gid)

    def start(self, timeout: float = 30.0) -> LocalPostgres:
        bindir = find_bindir()
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise PostgresNotAvailable(
                    "Running as root, but there is no 'postgres' OS user to run the server as "
                    "(the Debian postgresql package creates it)."
                ) from exc
            self._run_as = "postgres"
        if self.data_dir is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="cdr-pg-"))
            self._tmp.chmod(0o755)
            data_dir = self._tmp / "data"
        else:
            data_dir = self.data_dir
        self.data_dir = data_dir
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        sock_dir = data_dir.parent / "sock"
        sock_dir.mkdir(exist_ok=True)
        if not (data_dir / "PG_VERSION").exists():
            data_dir.mkdir(exist_ok=True)
            self._prepare_owner(data_dir)
            self._prepare_owner(sock_dir)
            subprocess.run(
                self._cmd(
                    str(bindir / "initdb"),
                    "-D",
                    str(data_dir),
                    "--auth=trust",
                    "--no-sync",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "-U",
                    self.superuser,
                ),
                check=True,
                capture_output=True,
            )
        else:
            self._prepare_owner(sock_dir)
        if self.port is None:
            self.port = free_port()
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sock_dir} "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=100"
        )
        log = data_dir.parent / "postgres.log"
        log.touch()
        self._prepare_owner(log)
        subprocess.run(
            self._cmd(
                str(bindir / "pg_ctl"), "-D", str(data_dir), "-o", options, "-l", str(log), "-w", "start"
            ),
            check=True,
            capture_output=True,
            timeout=timeout,
        )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", int(self.port or 0)), 0.5),
            ):
                return
            time.sleep(0.05)
        raise TimeoutError(f"PostgreSQL did not accept connections on port {self.port} in {timeout}s")

    def require_passwords(self) -> None:
        """Make every role except the superuser log in with its password over TCP (scram-sha-256).

        The cluster is created with trust authentication; a test or the soak that gives the pipeline a
        login role with a password calls this so a connection without the right password is refused.
        """
        assert self.data_dir is not None and self.port is not None, "start() the server first"
        su = self.superuser
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            f"host all {su} 127.0.0.1/32 trust\n"
            f"host all {su} ::1/128 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
            "host all all ::1/128 scram-sha-256\n"
        )
        self._prepare_owner(hba)
        subprocess.run(
            self._cmd(str(find_bindir() / "pg_ctl"), "-D", str(self.data_dir), "reload"),
            check=True,
            capture_output=True,
            timeout=30,
        )

    def is_running(self) -> bool:
        if self.data_dir is None:
            return False
        return (self.data_dir / "postmaster.pid").exists()

    def stop(self) -> None:
        bindir = find_bindir()
        if self.data_dir is not None and self.is_running():
            subprocess.run(
                self._cmd(str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"),
                check=False,
                capture_output=True,
                timeout=60,
            )
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[LocalPostgres]:
    """Start a temporary cluster on a free port and remove it afterwards."""
    server = LocalPostgres().start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def scratch_database(dsn: str, prefix: str, *, keep: bool = False) -> Iterator[str]:
    """A new database on the server at ``dsn`` (its conninfo), dropped afterwards unless ``keep``.

    The measuring tools (``make bench``, the scale probe) run here, so they never write into an existing
    warehouse on a server they are pointed at.
    """
    import uuid

    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = conninfo_to_dict(dsn)
    params["dbname"] = name
    try:
        yield make_conninfo(**params)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

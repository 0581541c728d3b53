"""Kill a load task's process with SIGKILL in the middle of its COPY into PostgreSQL.

Why a child process: the daily DAG's ``load_partition`` task body runs in a separate Python process (as an
Airflow worker's task process would), with the same environment (connections, ``CDR_*`` settings). The child
wraps psycopg's ``Copy.write`` so that after the first block of rows has been sent it drops a marker file and
stalls; the parent checks on the server that the session really is inside ``COPY ... FROM STDIN`` and sends
SIGKILL. Nothing in the pipeline is patched: the kill lands where a crash, an OOM kill or a node loss would.

Afterwards the parent checks that PostgreSQL rolled the load back (no ledger row of that report, the table's
row count unchanged) before the caller lets the task's retry run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
from psycopg import sql

from include.vonage_cdr.products import get_product

APPLICATION_NAME = "vonage-cdr-pipeline"
MARKER_ENV = "CDR_SOAK_KILL_MARKER"


@dataclass
class KillOutcome:
    request_id: str
    attempts: int  # child starts until one reached the COPY (a fault may end a try earlier)
    killed_in_copy: bool
    rolled_back: bool
    detail: str


def task_context(report: Mapping[str, Any], try_number: int) -> dict[str, Any]:
    """The part of an Airflow context the task body reads (``ti`` for the ledger's Airflow columns)."""
    ti = SimpleNamespace(
        dag_id="vonage_cdr_daily",
        run_id=f"soak__kill__{report['request_id']}",
        task_id="load_partition",
        try_number=try_number,
    )
    return {"ti": ti}


def child_main(spec_path: str) -> int:
    """Entry of the child: run the task body; the wrapped COPY stalls after its first block."""
    spec = json.loads(Path(spec_path).read_text())
    marker = Path(os.environ[MARKER_ENV])
    original = psycopg.Copy.write

    def write(self: psycopg.Copy, buffer: Any) -> None:
        original(self, buffer)
        if not marker.exists():
            self.connection.pgconn.flush()
            marker.write_text(str(os.getpid()))
            time.sleep(3600)

    psycopg.Copy.write = write  # type: ignore[method-assign]
    from include.vonage_cdr.settings import Settings
    from vonage_reports.pipeline_tasks import load_partition

    load_partition(spec["report"], task_context(spec["report"], spec["try_number"]), Settings.from_env())
    return 0  # the COPY never stalled: the load finished (should not happen: the parent would see it)


def _copy_sessions(dsn: str) -> list[tuple[int, str, str]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid, state, query FROM pg_stat_activity "
            "WHERE application_name = %s AND query ILIKE 'COPY%%'",
            (APPLICATION_NAME,),
        ).fetchall()
    return [(int(p), str(s), str(q)) for p, s, q in rows]


def _ledger_rows(dsn: str, request_id: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM cdr.load_ledger WHERE report_request_id = %s", (request_id,)
        ).fetchone()
    return int(row[0]) if row else 0


def _table_rows(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("cdr", table))).fetchone()
    return int(row[0]) if row else 0


def kill_mid_copy(
    report: Mapping[str, Any],
    *,
    admin_dsn: str,
    work_dir: Path,
    log_path: Path,
    max_attempts: int = 6,
    timeout: float = 180.0,
) -> KillOutcome:
    """Start the load of `report` in a child process, SIGKILL it inside its COPY, check the rollback."""
    table = get_product(str(report["product"])).table
    request_id = str(report["request_id"])
    work_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, max_attempts + 1):
        rows_before = _table_rows(admin_dsn, table)
        ledger_before = _ledger_rows(admin_dsn, request_id)  # an earlier try may have loaded it
        marker = work_dir / f"kill-{request_id}-{attempt}.marker"
        spec = work_dir / f"kill-{request_id}-{attempt}.json"
        spec.write_text(json.dumps({"report": dict(report), "try_number": attempt}))
        env = {**os.environ, MARKER_ENV: str(marker)}
        with log_path.open("ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", "include.devtools.soak", "--child-load", str(spec)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        try:
            while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if not marker.exists():
                if child.poll() is None:
                    raise TimeoutError(f"the load of report {request_id} reached no COPY in {timeout:.0f} s")
                continue  # this try failed before its COPY (an injected fault): start the next one
            sessions = _copy_sessions(admin_dsn)
            in_copy = len(sessions) == 1 and sessions[0][1] == "active"
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(30)
            gone_by = time.monotonic() + 30
            while _copy_sessions(admin_dsn) and time.monotonic() < gone_by:
                time.sleep(0.1)
            ledger = _ledger_rows(admin_dsn, request_id)
            rows_after = _table_rows(admin_dsn, table)
            rolled_back = (
                ledger == ledger_before and rows_after == rows_before and not _copy_sessions(admin_dsn)
            )
            detail = (
                f"server session {'in COPY' if in_copy else repr(sessions)}; after SIGKILL: "
                f"ledger rows of the report {ledger_before} -> {ledger}, "
                f"cdr.{table} rows {rows_before} -> {rows_after}"
            )
            return KillOutcome(request_id, attempt, in_copy, rolled_back, detail)
        finally:
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait(30)
            spec.unlink(missing_ok=True)
            marker.unlink(missing_ok=True)
    return KillOutcome(request_id, max_attempts, False, False, "no try reached the COPY")

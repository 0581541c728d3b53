"""``make demo``: run the daily and incremental DAGs through Airflow on the simulator; show the result.

Why a driver and not a shell script: the demo has to start two servers, always stop them (also on
Ctrl-C and on errors), run Airflow commands with a carefully built environment and print what landed
in the warehouse as readable tables; Python does all of that portably and testably.

What it does (state under ``.state/demo/``, reused by the next run):

1. starts the Reports API simulator on a free port and PostgreSQL from ``.state/demo/pg`` (or uses
   ``CDR_WAREHOUSE_URL``), creating the ``cdr_warehouse`` database on first use;
2. ``airflow db migrate`` (metadata in the same local cluster) and the ``vonage_reports_api`` pool
   (counting deferred tasks), with ``AIRFLOW_HOME`` ``.state/demo/airflow``;
3. ``airflow dags test vonage_cdr_daily <yesterday>`` with conf ``{"day": "<yesterday>"}``;
4. ``airflow dags test vonage_cdr_incremental``;
5. prints rows per product, the load ledger, the Parquet lake, freshness and a billing query;
6. stops everything it started. The warehouse data stays; ``--serve-warehouse`` starts it again.

Re-running is idempotent: the day is reloaded (records merge on their id) and shows the same counts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from include.devtools.airflow_local import (
    DEFAULT_STATE_DIR,
    Interrupted,
    LocalStack,
    StateLayout,
    Warehouse,
    airflow_bin,
    interrupts_ignored,
    interrupts_raise,
    prepare_airflow,
    run_logged,
    start_warehouse,
)

SQL_DIR = Path(__file__).resolve().parent / "sql"
DAILY_DAG = "vonage_cdr_daily"
INCREMENTAL_DAG = "vonage_cdr_incremental"
LOG_TAIL_LINES = 60


class StepFailed(RuntimeError):
    """A step of the demo failed; the message says which, the log holds the details."""


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as an aligned text table; numbers right-aligned, NULL shown as '-'."""

    def cell(value: Any) -> str:
        if value is None:
            return "-"
        if isinstance(value, datetime):
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(value, Decimal):
            return format(value.normalize(), "f")
        return str(value)

    text = [[cell(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(headers))
    ]
    widths = [max([len(h)] + [len(r[i]) for r in text]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "  " + "  ".join(parts).rstrip()

    out = [line(headers), "  " + "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in text)
    if not rows:
        out.append("  (no rows)")
    return "\n".join(out)


def _query(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text()


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _last_run_state(metadata_url: str, dag_id: str) -> str | None:
    """State of the newest run of ``dag_id`` in Airflow's metadata (``dags test`` may exit 0 on failure).

    ``metadata_url`` is the set-up's SQLAlchemy URL: PostgreSQL in the local cluster, or SQLite.
    """
    query = "SELECT state FROM dag_run WHERE dag_id = {} ORDER BY id DESC LIMIT 1"
    if metadata_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(metadata_url[len("sqlite:///") :])) as conn:
            row = conn.execute(query.format("?"), (dag_id,)).fetchone()
    else:
        with psycopg.connect(metadata_url.replace("postgresql+psycopg2://", "postgresql://", 1)) as pg:
            row = pg.execute(query.format("%s"), (dag_id,)).fetchone()
    return None if row is None else str(row[0])


class Demo:
    """The steps of the demo, sharing the stack, the log file and the progress printer."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.layout = StateLayout(Path(args.state_dir).resolve())
        self.day: date = args.day or (datetime.now(UTC).date() - timedelta(days=1))
        self.stack = LocalStack(self.layout, records_per_day=args.records_per_day)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.log_path = self.layout.logs / f"demo-{stamp}.log"
        self.step_no = 0
        self.steps_total = 6
        self.summary: dict[str, Any] = {"day": self.day.isoformat(), "state_dir": str(self.layout.root)}

    def step(self, title: str, action: Callable[[], Any]) -> Any:
        self.step_no += 1
        print(f"[{self.step_no}/{self.steps_total}] {title} ...", flush=True)
        started = time.monotonic()
        result = action()
        print(f"      ok ({time.monotonic() - started:.1f} s)", flush=True)
        return result

    def airflow(self, argv: list[str], timeout: float) -> None:
        env = self.stack.env(self._extra_env())
        with self.log_path.open("ab") as log:
            code = run_logged([airflow_bin(), *argv], env, log, timeout=timeout)
        if code != 0:
            raise StepFailed(f"`airflow {' '.join(argv)}` exited with code {code}")
        if argv[:2] == ["dags", "test"]:
            state = _last_run_state(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], argv[2])
            if state != "success":
                raise StepFailed(f"`airflow {' '.join(argv)}`: the DAG run ended in state {state}")

    def _extra_env(self) -> dict[str, str]:
        return {"CDR_PRODUCTS": self.args.products} if self.args.products else {}

    def prepare(self) -> None:
        with self.log_path.open("ab") as log:
            prepare_airflow(self.stack.env(self._extra_env()), log)

    def run(self) -> int:
        self.layout.create()
        print(f"Vonage CDR demo: day {self.day} (UTC), state in {self.layout.root}")
        print(f"Airflow output goes to {self.log_path}", flush=True)
        try:
            with interrupts_raise():
                self.step("start the Reports API simulator and the warehouse", self.stack.start)
                self.summary["simulator_pid"] = self.stack.simulator.pid if self.stack.simulator else None
                self.summary["postgres_pid"] = self.stack.warehouse.pid if self.stack.warehouse else None
                self.step("airflow db migrate, pool vonage_reports_api", self.prepare)
                day = self.day.isoformat()
                self.step(
                    f"daily DAG for {day}: airflow dags test {DAILY_DAG} {day}",
                    lambda: self.airflow(
                        ["dags", "test", DAILY_DAG, day, "--conf", json.dumps({"day": day})], timeout=1200
                    ),
                )
                self.step(
                    f"incremental DAG: airflow dags test {INCREMENTAL_DAG}",
                    lambda: self.airflow(["dags", "test", INCREMENTAL_DAG], timeout=900),
                )
                self.step("read what landed", self.report)
        except Interrupted as exc:
            print(f"\nInterrupted ({exc}): stopping what the demo started ...", file=sys.stderr, flush=True)
            self._stop()
            return 130
        except Exception as exc:
            print(f"\nFAILED: {exc}", file=sys.stderr)
            tail = _tail(self.log_path)
            if tail:
                print(f"--- last lines of {self.log_path} ---\n{tail}\n---", file=sys.stderr, flush=True)
            self._stop()
            return 1
        self._stop()
        self._print_how_to_query()
        # The usage and cost report that the daily DAG's last task rendered (CDR_REPORT_DIR of the stack).
        from include.vonage_cdr.reporting import REPORT_FILE_NAME

        report = self.layout.root / "reports" / REPORT_FILE_NAME
        self.summary["report"] = str(report) if report.exists() else None
        print(
            f"Usage and cost report (open it in a browser): {report}"
            if report.exists()
            else f"No report at {report}"
        )
        if self.args.json_summary:
            Path(self.args.json_summary).write_text(json.dumps(self.summary, indent=2, default=str))
        return 0

    def _stop(self) -> None:
        print(f"[{self.steps_total}/{self.steps_total}] stop the simulator and PostgreSQL", flush=True)
        self.stack.close()

    def report(self) -> None:
        assert self.stack.warehouse is not None
        from include.vonage_cdr.products import get_product
        from include.vonage_cdr.settings import Settings

        settings = Settings.from_env(self.stack.env(self._extra_env()))
        start = datetime.combine(self.day, datetime.min.time(), tzinfo=UTC)
        with psycopg.connect(self.stack.warehouse.dsn) as conn:
            daily = {
                r[0]: r
                for r in conn.execute(
                    _query("demo_ledger_by_product"),
                    {"dag_id": DAILY_DAG, "mode": "async", "window_start": start},
                ).fetchall()
            }
            rows = []
            counts: dict[str, int] = {}
            for name in settings.products:
                table = get_product(name).table
                (count,) = conn.execute(
                    sql.SQL("SELECT count(*) FROM {} WHERE event_time >= %s AND event_time < %s").format(
                        sql.Identifier("cdr", table)
                    ),
                    (start, start + timedelta(days=1)),
                ).fetchone() or (0,)
                counts[name] = int(count)
                led = daily.get(name) or (name, 0, None, None, None, None, None, None)
                rows.append([name, f"cdr.{table}", count, *led[1:]])
            self.summary["rows_per_product"] = counts
            print(f"\nDaily load of {self.day} (warehouse rows of the day; ledger of the newest daily run):")
            print(
                format_table(
                    [
                        "product",
                        "table",
                        "rows",
                        "loads",
                        "read",
                        "inserted",
                        "updated",
                        "unchanged",
                        "quarantined",
                        "billed",
                    ],
                    rows,
                )
            )
            inc = conn.execute(
                _query("demo_ledger_by_product"),
                {"dag_id": INCREMENTAL_DAG, "mode": "sync", "window_start": None},
            ).fetchall()
            print("\nIncremental sync (ledger of the newest incremental run):")
            print(
                format_table(
                    ["product", "loads", "read", "inserted", "updated", "unchanged", "quarantined", "billed"],
                    [list(r) for r in inc],
                )
            )
            self.summary["incremental"] = {r[0]: int(r[2] or 0) for r in inc}
            self._print_lake()
            fresh = conn.execute(_query("demo_freshness")).fetchall()
            print("\nFreshness (analytics.freshness):")
            print(
                format_table(
                    ["product", "account", "direction", "mode", "newest event (UTC)", "lag now (s)"],
                    [list(r) for r in fresh],
                )
            )
            billing = conn.execute(_query("demo_billing_daily"), {"day": self.day}).fetchall()
            print(
                f"\nBilling for {self.day}:\n"
                "  SELECT account_id, product, currency, cdr_count, priced_cdr_count, total_cost\n"
                f"  FROM analytics.billing_daily WHERE usage_date = '{self.day}' ORDER BY 1, 2, 3;"
            )
            print(
                format_table(
                    ["account_id", "product", "currency", "cdr_count", "priced_cdr_count", "total_cost"],
                    [list(r) for r in billing],
                )
            )
            self.summary["billing"] = [[str(v) for v in r] for r in billing]
        print()

    def _print_lake(self) -> None:
        lake = self.layout.lake
        rows = []
        for folder in sorted(lake.glob("product=*/date=*")):
            files = [f for f in folder.iterdir() if f.is_file() and not f.name.startswith(("_", "."))]
            size = sum(f.stat().st_size for f in files)
            rows.append([str(folder.relative_to(lake)), len(files), f"{size / 1024:.1f} KiB"])
        print(f"\nParquet lake in {lake}:")
        print(format_table(["partition", "files", "size"], rows))
        self.summary["lake_partitions"] = [r[0] for r in rows]

    def _print_how_to_query(self) -> None:
        warehouse = self.stack.warehouse
        if warehouse is not None and not warehouse.local:
            print("The warehouse is CDR_WAREHOUSE_URL's database; query it there (it keeps running).")
            return
        print(
            f"The warehouse data stays in {self.layout.pg_data} (PostgreSQL was stopped).\n"
            "To query it, start it again in the foreground and use the psql command it prints:\n"
            f"  .venv/bin/python -m include.devtools.demo --serve-warehouse"
            f"{'' if self.layout.root == DEFAULT_STATE_DIR else f' --state-dir {self.layout.root}'}\n"
            "Airflow logs and metadata: "
            f"{self.layout.airflow_home}; demo log: {self.log_path}"
        )


def serve_warehouse(args: argparse.Namespace) -> int:
    """Start the demo's PostgreSQL in the foreground until Ctrl-C, so a user can query it."""
    layout = StateLayout(Path(args.state_dir).resolve()).create()
    warehouse: Warehouse | None = None
    try:
        with interrupts_raise():
            warehouse = start_warehouse(layout, args.pg_port)
            if not warehouse.local:
                print("CDR_WAREHOUSE_URL is set: the warehouse is that server; nothing to start.")
                return 0
            print(f"Warehouse running (pid {warehouse.pid}). Query it with:\n  {warehouse.psql_command()}")
            print("Press Ctrl-C to stop it.", flush=True)
            while True:
                time.sleep(3600)
    except Interrupted:
        return 0
    finally:
        if warehouse is not None and warehouse.local:
            with interrupts_ignored():
                warehouse.stop()
                print("PostgreSQL stopped.")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m include.devtools.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--state-dir", default=str(DEFAULT_STATE_DIR), help="default: .state/demo")
    parser.add_argument("--day", type=date.fromisoformat, help="UTC day to load (default: yesterday)")
    parser.add_argument("--records-per-day", type=int, default=500, help="simulator records per product/day")
    parser.add_argument("--products", help="comma-separated products (default: the pipeline's 7)")
    parser.add_argument("--json-summary", help="also write the counts as JSON to this file (for tests)")
    parser.add_argument("--serve-warehouse", action="store_true", help="only start the demo's PostgreSQL")
    parser.add_argument("--pg-port", type=int, help="port for --serve-warehouse (default: a free one)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_warehouse:
        return serve_warehouse(args)
    return Demo(args).run()


if __name__ == "__main__":
    raise SystemExit(main())

"""``make bench``: how fast a report lands, measured beside PostgreSQL's own COPY of the same file.

Why a command and not a test: speed and memory depend on the machine, so they are measured on demand and
never asserted. Two modes:

* ``--mode async`` (default): a synthetic outbound SMS report of ``--rows`` records (ZIP, all-quoted CSV).
  On one throwaway PostgreSQL 15 (fsync on, like production) and in one run, each round measures
  floor (a) and floor (b) (:mod:`.floors`: one COPY of the same decompressed CSV), then the pipeline as the
  daily DAG runs it on a table emptied first (ZIP -> normalize -> load, committed), then the same report
  again (a reload of unchanged rows). WAL is the ``pg_current_wal_lsn()`` difference of each step, after a
  CHECKPOINT. ``--repeat N`` runs N interleaved rounds and reports the medians (a shared machine is noisy).
* ``--mode sync``: the incremental DAG's read of one window from the Reports API simulator (run in a
  process of its own, with its rate limit of 10 requests per second on), through the incremental task's
  own code (``incremental.sync_partition``): records per second of the read (pages -> normalized) and of
  the whole task, and the number of 429 answers.

The last line of the output is one JSON object (keys documented in docs/performance.md).

    python -m include.vonage_cdr.bench [--mode async|sync] [--rows N] [--repeat N] [--dsn URL] [--keep-db]

Without ``--dsn`` (or ``CDR_WAREHOUSE_URL``) a throwaway local PostgreSQL is started and removed. With a
server given, the benchmark creates its own database there and drops it afterwards unless ``--keep-db``: it
never writes into an existing warehouse. Every file it writes lives in one temporary directory (``--work-dir``
to choose where) that is removed at the end, also after an error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from include.vonage_cdr.bench.data import generate_sms_zip
from include.vonage_cdr.products import get_product

__all__ = ["generate_sms_zip", "main"]

#: disk a run needs per record: CSV (~370 B), ZIP, Parquet, the table and a floor table, WAL segments
DISK_BYTES_PER_ROW = 2_400


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _in_child(func: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(func, args)


@contextlib.contextmanager
def _database(dsn: str | None, keep: bool, data_dir: Path) -> Iterator[str]:
    """A database to benchmark in: a new one on the given server, or on a throwaway local server."""
    if dsn is None:
        from include.devtools.local_postgres import LocalPostgres

        server = LocalPostgres(data_dir=data_dir / "pg" / "data", fsync=True).start()
        try:
            yield server.dsn
        finally:
            server.stop()
            shutil.rmtree(data_dir / "pg", ignore_errors=True)
        return
    from include.devtools.local_postgres import scratch_database

    with scratch_database(dsn, "cdr_bench", keep=keep) as scratch:
        yield scratch


class _Wal:
    """WAL written by a step: pg_current_wal_lsn() before and after, after a CHECKPOINT (so every step
    starts with the same full-page-write state)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> _Wal:
        self.conn.execute("CHECKPOINT")
        self.start = self.conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        row = self.conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (self.start,)).fetchone()
        self.mib = float(row[0]) / 2**20 if row else 0.0


def _decompress(zip_path: Path, csv_path: Path) -> None:
    with zipfile.ZipFile(zip_path) as zf, zf.open(zf.namelist()[0]) as src, csv_path.open("wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def _empty_tables(conn: psycopg.Connection) -> None:
    conn.execute("TRUNCATE cdr.sms, cdr.quarantine, cdr.load_ledger, cdr.freshness")


def _round(dsn: str, work: Path, zip_path: Path, csv_path: Path, number: int) -> dict[str, Any]:
    from include.vonage_cdr.bench import floors
    from include.vonage_cdr.bench.phases import cpu_seconds, load_report

    product = get_product("SMS")
    out: dict[str, Any] = {"load_average_start": load_average()}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name, create in (("floor_a", floors.create_floor_a), ("floor_b", floors.create_floor_b)):
            table = create(conn, product)
            backend = conn.info.backend_pid
            with _Wal(conn) as wal:
                cpu = cpu_seconds(backend)
                floors.copy_csv(conn, table, product, csv_path)
                cpu_after = cpu_seconds(backend)
            out[f"{name}_s"], out[f"{name}_wal_mb"] = wal.seconds, wal.mib
            out[f"{name}_backend_cpu_s"] = None if cpu is None or cpu_after is None else cpu_after - cpu
            floors.drop_floors(conn)
            print(f"  round {number}: {name} {wal.seconds:.1f} s, WAL {wal.mib:.0f} MiB", flush=True)
        _empty_tables(conn)
        for name in ("pipeline", "reload"):
            if name == "reload":
                # Settle the table first, as the hours between a load and its reload do: autovacuum's pass
                # over a million new rows (visibility map, statistics) is the first load's cost, and its WAL
                # would otherwise be counted as the reload's.
                with _Wal(conn) as settle:
                    conn.execute("VACUUM (ANALYZE) cdr.sms")
                out["settle_s"], out["settle_wal_mb"] = settle.seconds, settle.mib
            parquet = work / f"{name}.parquet"
            with _Wal(conn) as wal:
                child = _in_child(load_report, dsn, str(zip_path), str(parquet))
            parquet.unlink(missing_ok=True)
            load = child["load"]
            out[f"{name}_s"] = child["seconds"]
            out[f"{name}_wal_mb"] = wal.mib
            out[f"{name}_peak_rss_mb"] = child["peak_rss_mib"]
            out[f"{name}_arrow_peak_mb"] = child["arrow_peak_mib"]
            out[f"{name}_normalize_s"] = child["normalize_seconds"]
            out[f"{name}_client_cpu_s"] = child["client_cpu_s"]
            out[f"{name}_backend_cpu_s"] = child["backend_cpu_s"]
            out[f"{name}_strategy"] = load.strategy
            out[f"{name}_stages"] = dict(load.stages)
            out[f"{name}_counts"] = {
                "inserted": load.rows_inserted,
                "updated": load.rows_updated,
                "unchanged": load.rows_unchanged,
            }
            print(
                f"  round {number}: {name} {child['seconds']:.1f} s ({load.strategy}: inserted "
                f"{load.rows_inserted:,}, unchanged {load.rows_unchanged:,}), WAL {wal.mib:.0f} MiB, "
                f"peak RSS {child['peak_rss_mib']:.0f} MiB, CPU client {child['client_cpu_s']:.1f} s "
                f"backend {child['backend_cpu_s'] or 0:.1f} s",
                flush=True,
            )
    out["load_average_end"] = load_average()
    return out


def run_async(rows: int, repeat: int, dsn: str | None, keep_db: bool, work: Path) -> dict[str, Any]:
    from include.vonage_cdr.warehouse.migrate import apply_migrations

    zip_path = work / "SMS_bench.zip"
    csv_path = work / "SMS_bench.csv"
    started = time.perf_counter()
    generate_sms_zip(zip_path, rows)
    _decompress(zip_path, csv_path)
    print(
        f"generated {rows:,} records in {time.perf_counter() - started:.0f} s: "
        f"{zip_path.stat().st_size / 2**20:.0f} MiB ZIP, {csv_path.stat().st_size / 2**20:.0f} MiB CSV",
        flush=True,
    )
    rounds = []
    with _database(dsn, keep_db, work) as db:
        apply_migrations(db)
        for number in range(1, repeat + 1):
            rounds.append(_round(db, work, zip_path, csv_path, number))
    return _summary(rows, rounds)


def _median(rounds: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rounds)


def _summary(rows: int, rounds: list[dict[str, Any]]) -> dict[str, Any]:
    floor_a = _median(rounds, "floor_a_s")
    pipeline = _median(rounds, "pipeline_s")
    reload_s = _median(rounds, "reload_s")
    best = min(rounds, key=lambda r: abs(r["pipeline_s"] - pipeline))  # the round closest to the median
    return {
        "rows": rows,
        "pipeline_s": round(pipeline, 2),
        "floor_a_s": round(floor_a, 2),
        "floor_b_s": round(_median(rounds, "floor_b_s"), 2),
        "ratio": round(pipeline / floor_a, 3),
        "reload_s": round(reload_s, 2),
        "reload_ratio": round(reload_s / floor_a, 3),
        "reload_wal_mb": round(_median(rounds, "reload_wal_mb"), 1),
        "peak_rss_mb": round(max(max(r["pipeline_peak_rss_mb"], r["reload_peak_rss_mb"]) for r in rounds), 1),
        "stages": {
            "normalize_s": round(_median(rounds, "pipeline_normalize_s"), 2),
            "load": {k: round(v, 2) for k, v in best["pipeline_stages"].items()},
            "reload": {k: round(v, 2) for k, v in best["reload_stages"].items()},
        },
        "rows_per_s": round(rows / pipeline),
        "strategy": best["pipeline_strategy"],
        "reload_strategy": best["reload_strategy"],
        "floor_a_wal_mb": round(_median(rounds, "floor_a_wal_mb"), 1),
        "floor_b_wal_mb": round(_median(rounds, "floor_b_wal_mb"), 1),
        "pipeline_wal_mb": round(_median(rounds, "pipeline_wal_mb"), 1),
        "reload_wal_share": round(_median(rounds, "reload_wal_mb") / _median(rounds, "floor_a_wal_mb"), 4),
        "arrow_peak_mb": round(max(r["pipeline_arrow_peak_mb"] for r in rounds), 1),
        "settle_wal_mb": round(_median(rounds, "settle_wal_mb"), 1),
        "repeat": len(rounds),
        "rounds": [
            {k: round(v, 2) if isinstance(v, float) else v for k, v in r.items() if not k.endswith("_stages")}
            for r in rounds
        ],
        "load_average": [r["load_average_start"] for r in rounds] + [rounds[-1]["load_average_end"]],
    }


def _check_disk(work: Path, rows: int) -> None:
    need = rows * DISK_BYTES_PER_ROW
    free = shutil.disk_usage(work).free
    if free < need:
        raise SystemExit(
            f"bench: {rows:,} records need about {need / 2**30:.1f} GiB free in {work} "
            f"({free / 2**30:.1f} GiB free); choose another --work-dir or fewer --rows"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m include.vonage_cdr.bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--mode", choices=["async", "sync"], default="async")
    parser.add_argument("--rows", type=int, default=None, help="records (async 1,000,000; sync 60,000)")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds (async), medians reported")
    parser.add_argument(
        "--dsn",
        default=os.environ.get("CDR_WAREHOUSE_URL") or None,
        help="server to benchmark on (a new database is created there); default: a throwaway one",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database on --dsn")
    parser.add_argument("--work-dir", type=Path, default=None, help="where the temporary files go")
    args = parser.parse_args(argv)
    base = args.work_dir or Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    print(f"load average at start: {load_average()} ({os.cpu_count()} CPUs)", flush=True)
    with tempfile.TemporaryDirectory(prefix="cdr-bench-", dir=base) as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # the throwaway server runs as the postgres user when we are root
        if args.mode == "async":
            rows = args.rows or 1_000_000
            _check_disk(work, rows)
            summary = run_async(rows, max(1, args.repeat), args.dsn, args.keep_db, work)
        else:
            from include.vonage_cdr.bench.sync import run_sync

            summary = run_sync(args.rows or 60_000, args.dsn, args.keep_db, work)
    _print_table(summary)
    print(json.dumps(summary, separators=(",", ":")))
    return 0


def _print_table(summary: dict[str, Any]) -> None:
    if "floor_a_s" not in summary:
        for key, value in summary.items():
            if not isinstance(value, (dict, list)):
                print(f"{key:<28}{value}")
        return
    rows = summary["rows"]
    print(f"\n{'step':<34}{'seconds':>9}{'x floor a':>11}{'rows/s':>12}{'WAL MiB':>10}")
    for label, key, wal in (
        ("floor (a): COPY, primary key only", "floor_a_s", "floor_a_wal_mb"),
        ("floor (b): COPY into the table", "floor_b_s", "floor_b_wal_mb"),
        (f"pipeline ({summary['strategy']})", "pipeline_s", "pipeline_wal_mb"),
        (f"reload ({summary['reload_strategy']})", "reload_s", "reload_wal_mb"),
    ):
        seconds = summary[key]
        print(
            f"{label:<34}{seconds:>9.2f}{seconds / summary['floor_a_s']:>11.2f}"
            f"{rows / seconds:>12,.0f}{summary[wal]:>10.0f}"
        )
    print(f"peak RSS {summary['peak_rss_mb']:.0f} MiB, Arrow pool peak {summary['arrow_peak_mb']:.0f} MiB")
    print(f"load average: {summary['load_average']}")


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the load path: synthetic SMS report ZIP -> normalize -> load -> reload.

Why a separate command and not a test: throughput depends on the machine, so it is measured on demand and
never asserted (``make bench``). Each phase runs in a fresh child process so that its peak RSS
(``resource.getrusage``) is its own, not the maximum of everything before it.

    python -m include.vonage_cdr.bench [--rows 1000000] [--dsn postgresql://...] [--keep-db]

Without ``--dsn`` (or ``CDR_WAREHOUSE_URL``) a throwaway local PostgreSQL is started (fsync on, like
production). With a server given, the benchmark creates its own database there and drops it afterwards
unless ``--keep-db``: it never writes into an existing warehouse.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import logging
import multiprocessing
import os
import random
import resource
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from include.vonage_cdr.products import Product, get_product

__all__ = ["generate_sms_zip", "main", "sms_rows"]

ACCOUNT = "bench001"
DAY = datetime(2026, 11, 20, tzinfo=UTC)
_STATUSES = ("delivered", "delivered", "delivered", "delivered", "expired", "failed", "rejected", "accepted")
_COUNTRIES = (
    ("GB", "United Kingdom", "23410"),
    ("DE", "Germany", "26201"),
    ("US", "United States", "US-FIXED"),
)
_BODIES = (
    "Your code is 123456",
    'Hello, "friend" - see you at 10:00',
    "Multi-line\nmessage, with comma",
    "Grüße aus Köln ✓ 你好",
)


def sms_rows(product: Product, rows: int, rng: random.Random) -> Iterator[list[str]]:
    """Synthetic outbound SMS records in wire form (strings, registry column order), spread over DAY.

    Built with plain string formatting (no datetime per row): generating must not dominate the benchmark.
    """
    order = [c.source for c in product.columns]
    day = DAY.strftime("%Y-%m-%d")
    for i in range(rows):
        country, country_name, network = _COUNTRIES[i % len(_COUNTRIES)]
        second = i * 86_400 // max(rows, 1)
        latency = 200 + int(rng.random() * 8_800)
        done_ms = second * 1000 + latency
        done_s = min(done_ms // 1000, 86_399)
        values = {
            "account_id": ACCOUNT,
            "message_id": f"{i:016X}",
            "account_ref": f"cust{i % 997}",
            "client_ref": "" if i % 3 else f"ref-{i}",
            "direction": "outbound",
            "from": "Acme Inc.",
            "to": f"4477009{i % 1_000_000:06d}",
            "concatenated": "TRUE" if i % 10 == 0 else "FALSE",
            "message_body": _BODIES[i % len(_BODIES)],
            "network": network,
            "network_name": "Telefonica UK Limited",
            "country": country,
            "country_name": country_name,
            "date_received": f"{day}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}+00:00",
            "date_finalized": f"{day}T{done_s // 3600:02d}:{done_s // 60 % 60:02d}:{done_s % 60:02d}"
            f".{done_ms % 1000:03d}+0000",
            "latency": str(latency),
            "status": _STATUSES[i % len(_STATUSES)],
            "error_code": "0",
            "error_code_description": "Delivered",
            "currency": "EUR",
            "total_price": f"0.0{100_000 + int(rng.random() * 899_999):06d}0",  # 8 decimals, as Vonage sends
            "id": f"{i:016X}-{int(rng.random() * 0xFFFFFFFF):08x}",
            "dcs": "0",
            "validity_period": "259200000",
            "ip_address": "203.0.113.1",
            "tier_volume": "1-10000",
        }
        yield [values.get(name, "") for name in order]


def generate_sms_zip(path: Path, rows: int, *, seed: int = 5) -> Path:
    """Write an all-quoted SMS report CSV of ``rows`` records straight into a ZIP (streamed, no temp CSV)."""
    product = get_product("SMS")
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open(f"report_SMS_{ACCOUNT}_20261121.csv", "w", force_zip64=True) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
    ):
        writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow([c.source for c in product.columns])
        writer.writerows(sms_rows(product, rows, rng))
    return path


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- phases (each in its own child process; times exclude its start-up) ------------------------------
def _phase_normalize(zip_path: str, out_path: str) -> dict[str, Any]:
    from include.vonage_cdr.normalize import normalize_zip

    base = peak_rss_mib()
    result = normalize_zip(Path(zip_path), get_product("SMS"), Path(out_path))
    return {"result": result, "base_rss": base, "peak_rss": peak_rss_mib()}


def _phase_load(dsn: str, result: Any) -> dict[str, Any]:
    from include.vonage_cdr.warehouse.load import LoadRequest, load_normalized

    logging.basicConfig(level=logging.INFO, format="    %(message)s")  # the loader logs COPY vs merge time
    base = peak_rss_mib()
    request = LoadRequest(
        product=get_product("SMS"),
        account_id=ACCOUNT,
        direction="outbound",
        mode="async",
        window_start=DAY,
        window_end=DAY + timedelta(days=1),
        report_request_id=f"bench-{uuid.uuid4()}",
        source_file=result.parquet_path.name,
        cdrs_billed=result.rows_read,
        started_at=datetime.now(UTC),
    )
    loaded = load_normalized(dsn, request, result)
    return {"result": loaded, "base_rss": base, "peak_rss": peak_rss_mib()}


def _in_child(func: Any, *args: Any) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        return pool.apply(func, args)


@dataclass
class _Line:
    phase: str
    rows: int
    seconds: float
    peak_rss: float | None = None
    base_rss: float | None = None
    note: str = ""

    def render(self) -> str:
        rate = f"{self.rows / self.seconds:>10,.0f}" if self.seconds else "         -"
        rss = (
            ""
            if self.peak_rss is None
            else f"{self.peak_rss:8.0f} MiB (+{self.peak_rss - (self.base_rss or 0):.0f})"
        )
        return f"{self.phase:<22}{self.rows:>11,}{self.seconds:>9.1f} s{rate} rows/s   {rss:<22} {self.note}"


@contextlib.contextmanager
def _database(dsn: str | None, keep: bool) -> Iterator[str]:
    """A database to benchmark in: a new one on the given server, or on a throwaway local server."""
    if dsn is None:
        from include.devtools.local_postgres import LocalPostgres

        server = LocalPostgres(fsync=True).start()
        try:
            yield server.dsn
        finally:
            server.stop()
        return
    name = f"cdr_bench_{uuid.uuid4().hex[:8]}"
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


def run(rows: int, dsn: str | None, keep_db: bool, work_dir: Path) -> list[_Line]:
    from include.vonage_cdr.warehouse.migrate import apply_migrations

    lines: list[_Line] = []
    zip_path = work_dir / "SMS_bench.zip"
    started = time.perf_counter()
    generate_sms_zip(zip_path, rows)
    lines.append(
        _Line(
            "generate zip",
            rows,
            time.perf_counter() - started,
            note=f"{zip_path.stat().st_size / 2**20:.0f} MiB ZIP",
        )
    )
    parquet = work_dir / "SMS_bench.parquet"
    normalized = _in_child(_phase_normalize, str(zip_path), str(parquet))
    result = normalized["result"]
    lines.append(
        _Line(
            "normalize (zip->parquet)",
            result.rows_read,
            result.seconds,
            normalized["peak_rss"],
            normalized["base_rss"],
            f"{parquet.stat().st_size / 2**20:.0f} MiB Parquet, {result.rows_quarantined} quarantined",
        )
    )
    with _database(dsn, keep_db) as db:
        apply_migrations(db)
        for phase in ("load (new rows)", "reload (unchanged)"):
            loaded = _in_child(_phase_load, db, result)
            out = loaded["result"]
            lines.append(
                _Line(
                    phase,
                    out.rows_loaded,
                    out.seconds,
                    loaded["peak_rss"],
                    loaded["base_rss"],
                    f"ins {out.rows_inserted:,} upd {out.rows_updated:,} same {out.rows_unchanged:,}",
                )
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1_000_000, help="synthetic SMS records (default 1,000,000)"
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("CDR_WAREHOUSE_URL") or None,
        help="server to benchmark on (a new database is created there); default: a throwaway one",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the benchmark database on --dsn")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cdr-bench-") as tmp:
        lines = run(args.rows, args.dsn, args.keep_db, Path(tmp))
    print(f"{'phase':<22}{'rows':>11}{'time':>11}{'rate':>17}   {'peak RSS (+growth)':<22} notes")
    for line in lines:
        print(line.render())
    return 0


if __name__ == "__main__":
    sys.exit(main())

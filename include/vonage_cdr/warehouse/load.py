"""Load one normalized Parquet file into its product table: COPY into staging, merge, account, commit.

Why this shape (measured, docs/postgres-notes.md, Load costs): one COPY stream is the fastest way into
PostgreSQL; a blind upsert rewrites every row and doubles the heap on reloads, so the merge compares before
updating. Everything a load writes (the rows, the quarantine of the window, the ledger row, and whatever the
caller adds through ``extra_sql_in_txn``, e.g. the sync watermark) commits in ONE transaction: a crash or a
retry never leaves rows without their ledger entry or a watermark ahead of its data.

The COPY payload is built by Arrow, not by Python per value: each batch's columns are turned into COPY text
(escaped, ``\\N`` for NULL) and joined into one buffer with vectorised string kernels, then handed to
psycopg's ``Copy.write``. Memory holds one batch at a time.

Monthly partitions are created first in their own short transaction (``cdr.ensure_partitions``), so the
partition lock is not held for the length of the load.
"""

from __future__ import annotations

import json
import logging
import struct
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql

from include.vonage_cdr.normalize import NormalizeResult, parquet_schema
from include.vonage_cdr.products import Product
from include.vonage_cdr.storage import Location, open_parquet, open_text, row_group_batches

log = logging.getLogger(__name__)

__all__ = [
    "PARTITION_MARGIN",
    "LoadRequest",
    "LoadResult",
    "copy_text",
    "ensure_partitions",
    "load_normalized",
]

SQL_DIR = Path(__file__).resolve().parent / "sql"
STAGE_TABLE = "_cdr_load_stage"
COPY_BATCH_ROWS = 32_768
#: partitions are ensured up to window_end + this, so a record stamped at the window's very end still lands.
PARTITION_MARGIN = timedelta(days=1)
META_COLUMNS = ("event_time", "extras")


@dataclass(frozen=True)
class LoadRequest:
    """What is being loaded and why; becomes the ``cdr.load_ledger`` row."""

    product: Product
    account_id: str
    direction: str | None
    mode: Literal["async", "sync"]
    window_start: datetime
    window_end: datetime
    report_request_id: str | None
    source_file: str | None
    cdrs_billed: int
    started_at: datetime
    download_seconds: float | None = None
    airflow: Mapping[str, Any] | None = None  # dag_id, run_id, task_id, try_number


@dataclass(frozen=True)
class LoadResult:
    """Counts of one committed load. ``rows_loaded = rows_inserted + rows_updated + rows_unchanged``;
    ``rows_duplicate`` rows repeated a record id already in the same file (the last occurrence won)."""

    load_id: int
    rows_read: int
    rows_loaded: int
    rows_inserted: int
    rows_updated: int
    rows_unchanged: int
    rows_quarantined: int
    rows_duplicate: int
    partitions_created: int
    seconds: float


@cache
def _sql_text(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _sql(name: str, **identifiers: sql.Composable) -> sql.Composed | sql.SQL:
    template = sql.SQL(_sql_text(name))  # type: ignore[arg-type]  # trusted file from the package
    return template.format(**identifiers) if identifiers else template


# -- COPY text encoding ------------------------------------------------------------------------------------
_ESCAPES = (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def _text_field(values: pa.Array) -> pa.Array:
    """A column as PostgreSQL COPY text: escaped, NULL as ``\\N`` (a literal ``\\N`` value is escaped)."""
    t = values.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        out = values
        data = values.buffers()[2]
        # A memchr over the raw bytes is far cheaper than running four replace kernels on clean data.
        raw = data.to_pybytes() if data is not None else b""
        for needle, replacement in _ESCAPES:
            if needle.encode() in raw:
                out = pc.replace_substring(out, needle, replacement)
    elif pa.types.is_decimal(t):
        # Exact decimal text without the fixed Parquet scale's trailing zeros (0.0333, not 0.033300000000).
        out = pc.replace_substring_regex(pc.cast(values, pa.string()), r"^(-?\d+\.\d*?)0+$", r"\1")
        out = pc.replace_substring_regex(out, r"\.$", "")
    elif pa.types.is_timestamp(t):
        # Formatting through the UTC-naive value is ~30x faster than Arrow's tz-aware formatting; the
        # explicit "+00" keeps the session TimeZone out of it: "2026-11-20 10:00:00.000000+00".
        naive = pc.cast(values, pa.timestamp(t.unit))
        out = pc.binary_join_element_wise(pc.cast(naive, pa.string()), "+00", "")
    else:  # integers, booleans ("true"/"false")
        out = pc.cast(values, pa.string())
    return pc.fill_null(out, "\\N")


def copy_text(batch: pa.RecordBatch) -> bytes:
    """One COPY text chunk (tab-separated lines ending in newline) for a record batch."""
    fields = [_text_field(batch.column(i)) for i in range(batch.num_columns)]
    lines = pc.binary_join_element_wise(*fields, "\t") if len(fields) > 1 else fields[0]
    lines = pc.binary_join_element_wise(lines, "", "\n")  # line + "\n" + ""
    _validity, offsets, data = lines.buffers()
    start = struct.unpack_from("<i", offsets, lines.offset * 4)[0]
    end = struct.unpack_from("<i", offsets, (lines.offset + len(lines)) * 4)[0]
    return data.slice(start, end - start).to_pybytes()


def _parquet_batches(path: Location) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    parquet = open_parquet(path)  # local or object store; streamed one row group at a time
    names = parquet.schema_arrow.names
    return names, row_group_batches(parquet, batch_size=COPY_BATCH_ROWS)


# -- the load ----------------------------------------------------------------------------------------------
def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value!r}")
    return value


def _check_columns(product: Product, names: list[str]) -> list[str]:
    """The file's columns, all of which must be known to the product (a lake file may predate new ones)."""
    allowed = set(parquet_schema(product).names)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"{product.name}: Parquet columns {unknown} are not in the registry's schema")
    for required in (product.record_id_column.name, *META_COLUMNS):
        if required not in names:
            raise ValueError(f"{product.name}: the Parquet file has no {required!r} column")
    return names


def _merge_sql(product: Product, stage: sql.Identifier, target: sql.Composed) -> sql.Composed | sql.SQL:
    record_id = product.record_id_column.name
    data = list(product.column_names)
    compared = [c for c in data if c != record_id]
    return _sql(
        "load_merge.sql",
        stage=stage,
        target=target,
        record_id=sql.Identifier(record_id),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in data),
        assignments=sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in compared
        ),
        target_compared=sql.SQL(", ").join(sql.Identifier("t", c) for c in compared),
        excluded_compared=sql.SQL(", ").join(sql.Identifier("excluded", c) for c in compared),
    )


def _copy_parquet(conn: psycopg.Connection, stage: sql.Identifier, path: Location, product: Product) -> int:
    names, batches = _parquet_batches(path)
    _check_columns(product, names)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        stage, sql.SQL(", ").join(sql.Identifier(n) for n in names)
    )
    rows = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for batch in batches:
            if batch.num_rows:
                copy.write(copy_text(batch))
                rows += batch.num_rows
    return rows


def _quarantine_rows(path: Location) -> Iterator[dict[str, Any]]:
    with open_text(path) as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _no_nul(text: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; keep the evidence readable instead of failing the load.
    return None if text is None else text.replace("\x00", "\\x00")


def _copy_quarantine(conn: psycopg.Connection, load_id: int, req: LoadRequest, path: Location) -> int:
    rows = 0
    with conn.cursor() as cur, cur.copy(_sql("load_quarantine_copy.sql")) as copy:
        for row in _quarantine_rows(path):
            copy.write_row(
                (
                    load_id,
                    req.product.name,
                    req.account_id,
                    req.direction or "",
                    req.window_start,
                    req.window_end,
                    _no_nul(row.get("source") or req.source_file),
                    row.get("line_number"),
                    _no_nul(row["reason"]),
                    _no_nul(row["raw_line"]),
                )
            )
            rows += 1
    return rows


def ensure_partitions(conn: psycopg.Connection, low: datetime, high: datetime) -> int:
    """Create the monthly partitions for [low, high] in a short transaction of its own."""
    with conn.transaction():
        row = conn.execute(_sql("load_ensure_partitions.sql"), {"from": low, "to": high}).fetchone()
    return int(row[0]) if row else 0


def load_normalized(
    conn_or_dsn: psycopg.Connection | str,
    req: LoadRequest,
    result: NormalizeResult,
    *,
    extra_sql_in_txn: Callable[[psycopg.Connection, int], None] | None = None,
) -> LoadResult:
    """Load a normalized file (and its quarantine) into ``cdr.<table>`` in one transaction; return the counts.

    ``conn_or_dsn``: a conninfo string (a connection is opened and closed here) or an open connection that is
    not inside a transaction (the load commits it). ``extra_sql_in_txn(conn, load_id)`` runs just before
    COMMIT, inside the load's transaction (the incremental DAG advances its watermark there).
    Idempotent: loading the same file again inserts and updates nothing and replaces the window's quarantine.
    """
    if req.mode not in ("async", "sync"):
        raise ValueError(f"mode must be 'async' or 'sync', got {req.mode!r}")
    window_start = _aware("window_start", req.window_start)
    window_end = _aware("window_end", req.window_end)
    _aware("started_at", req.started_at)
    if isinstance(conn_or_dsn, str):
        with psycopg.connect(conn_or_dsn, autocommit=True) as conn:
            return _load(conn, req, result, window_start, window_end, extra_sql_in_txn)
    conn = conn_or_dsn
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise ValueError("load_normalized needs a connection outside any transaction (it commits its own)")
    return _load(conn, req, result, window_start, window_end, extra_sql_in_txn)


def _load(
    conn: psycopg.Connection,
    req: LoadRequest,
    result: NormalizeResult,
    window_start: datetime,
    window_end: datetime,
    extra_sql_in_txn: Callable[[psycopg.Connection, int], None] | None,
) -> LoadResult:
    started = time.perf_counter()
    product = req.product
    low = min(window_start, result.event_time_min or window_start)
    high = max(window_end, result.event_time_max or window_end) + PARTITION_MARGIN
    partitions_created = ensure_partitions(conn, low, high)
    airflow = dict(req.airflow or {})
    direction = req.direction or ""
    stage = sql.Identifier(STAGE_TABLE)
    target = sql.Identifier("cdr", product.table)
    with conn.transaction():
        row = conn.execute(
            _sql("load_ledger_insert.sql"),
            {
                "product": product.name,
                "account_id": req.account_id,
                "direction": direction,
                "mode": req.mode,
                "window_start": window_start,
                "window_end": window_end,
                "report_request_id": req.report_request_id,
                "source_file": req.source_file,
                "rows_read": result.rows_read,
                "rows_quarantined": result.rows_quarantined,
                "cdrs_billed": req.cdrs_billed,
                "unknown_columns": list(result.unknown_columns),
                "missing_columns": list(result.missing_columns),
                "started_at": req.started_at,
                "download_seconds": req.download_seconds,
                "normalize_seconds": result.seconds,
                "dag_id": airflow.get("dag_id"),
                "run_id": airflow.get("run_id"),
                "task_id": airflow.get("task_id"),
                "try_number": airflow.get("try_number"),
            },
        ).fetchone()
        assert row is not None
        load_id = int(row[0])
        conn.execute(_sql("load_stage_create.sql", stage=stage, target=target))
        conn.execute(_sql("load_stage_prepare.sql", stage=stage))
        copy_started = time.perf_counter()
        staged = _copy_parquet(conn, stage, result.parquet_path, product)
        merge_started = time.perf_counter()
        counts = conn.execute(
            _merge_sql(product, stage, target), {"source": req.mode, "load_id": load_id}
        ).fetchone()
        log.info(
            "load %s %s: COPY %d rows into staging in %.1fs, merge in %.1fs",
            load_id,
            product.name,
            staged,
            merge_started - copy_started,
            time.perf_counter() - merge_started,
        )
        assert counts is not None
        rows_loaded, rows_inserted, rows_updated = (int(v) for v in counts)
        rows_unchanged = rows_loaded - rows_inserted - rows_updated
        conn.execute(
            _sql("load_quarantine_delete.sql"),
            {
                "product": product.name,
                "account_id": req.account_id,
                "direction": direction,
                "window_start": window_start,
                "window_end": window_end,
            },
        )
        quarantined = 0
        if result.quarantine_path is not None:
            quarantined = _copy_quarantine(conn, load_id, req, result.quarantine_path)
        if quarantined != result.rows_quarantined:
            raise RuntimeError(
                f"quarantine file holds {quarantined} rows, normalization reported {result.rows_quarantined}"
            )
        if extra_sql_in_txn is not None:
            extra_sql_in_txn(conn, load_id)
        seconds = time.perf_counter() - started
        conn.execute(
            _sql("load_ledger_finish.sql"),
            {
                "load_id": load_id,
                "rows_loaded": rows_loaded,
                "rows_inserted": rows_inserted,
                "rows_updated": rows_updated,
                "rows_unchanged": rows_unchanged,
                "load_seconds": seconds,
            },
        )
    return LoadResult(
        load_id=load_id,
        rows_read=result.rows_read,
        rows_loaded=rows_loaded,
        rows_inserted=rows_inserted,
        rows_updated=rows_updated,
        rows_unchanged=rows_unchanged,
        rows_quarantined=quarantined,
        rows_duplicate=staged - rows_loaded,
        partitions_created=partitions_created,
        seconds=time.perf_counter() - started,
    )

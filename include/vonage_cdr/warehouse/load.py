"""Load one normalized Parquet file into its product table: COPY into staging, merge, account, commit.

The rules a load follows (the SQL files in ``sql/`` say how):

1. **One row per record.** A record is identified by its record id alone (``Product.record_id``) everywhere:
   within a file, its last occurrence wins and the others are counted as ``rows_duplicate``
   (``load_stage_dedupe.sql``); across loads, a record whose event time changed is moved, never stored
   twice, even into another month partition (``load_move.sql``). Merges into one product table take turns
   under a transaction-level advisory lock (``load_lock.sql``) so concurrent daily and incremental loads
   cannot both insert one record. So no record is billed twice in ``analytics.billing_daily``.
2. **An absent column is unknown, not NULL.** The Parquet file lists the columns its source did not carry
   (``vonage_cdr.absent_columns``; a lake file written before a column existed lacks it altogether). The
   merge neither compares nor overwrites those columns: stored values stay, new rows get NULL, and the
   ledger's ``missing_columns`` names the expected ones. Columns identity and billing need are never absent:
   the normalizer refuses such a file.
3. **Exact counts.** ``rows_read = rows_loaded + rows_duplicate + rows_quarantined`` and
   ``rows_loaded = rows_inserted + rows_updated + rows_unchanged``; ``rows_moved`` (within rows_updated)
   counts records whose event time changed. When the caller knows how many rows the source announced
   (``rows_expected``: a report's ``items_count``), a different number of rows read refuses the load
   (:class:`IncompleteFile`) before anything is written.
4. **Billed once.** ``cdrs_billed`` is 0 when an earlier committed load already recorded the same report.

Why this shape (measured in postgres-and-load-facts.md): one COPY stream is the fastest way into
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

import base64
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
import pyarrow.parquet as pq
from psycopg import sql

from include.vonage_cdr.normalize import NormalizeResult, parquet_schema
from include.vonage_cdr.normalize.core import ABSENT_COLUMNS_KEY
from include.vonage_cdr.normalize.errors import IncompleteFile
from include.vonage_cdr.products import Product

log = logging.getLogger(__name__)

__all__ = [
    "PARTITION_MARGIN",
    "IncompleteFile",
    "LoadRequest",
    "LoadResult",
    "copy_text",
    "ensure_partitions",
    "load_normalized",
]

SQL_DIR = Path(__file__).resolve().parent / "sql"
STAGE_TABLE = "_cdr_load_stage"
MOVED_TABLE = "_cdr_load_moved"
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
    #: rows the source announced (a report's items_count); None when the source announces none (sync)
    rows_expected: int | None = None


@dataclass(frozen=True)
class LoadResult:
    """Counts of one committed load. ``rows_loaded = rows_inserted + rows_updated + rows_unchanged``;
    ``rows_read = rows_loaded + rows_duplicate + rows_quarantined``; ``rows_duplicate`` rows repeated a
    record id already in the same file (the last occurrence won); ``rows_moved`` (part of rows_updated)
    records whose event time changed; ``cdrs_billed`` what the ledger recorded (0 for a report already
    billed by an earlier load)."""

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
    rows_moved: int = 0
    cdrs_billed: int = 0
    missing_columns: tuple[str, ...] = ()


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


# -- the load ----------------------------------------------------------------------------------------------
def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value!r}")
    return value


def _carried_columns(product: Product, path: Path) -> tuple[list[str], set[str]]:
    """The file's columns, and the registry columns it does not carry (absent: unknown, kept on merge).

    Every file column must be known to the product; a lake file may predate newer registry columns, which
    then count as absent, like the columns its source lacked (``vonage_cdr.absent_columns``).
    """
    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    allowed = set(parquet_schema(product).names)
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"{product.name}: Parquet columns {unknown} are not in the registry's schema")
    for required in META_COLUMNS:
        if required not in names:
            raise ValueError(f"{product.name}: the Parquet file has no {required!r} column")
    metadata = parquet.metadata.metadata or {}
    absent = set(json.loads(metadata.get(ABSENT_COLUMNS_KEY, b"[]")))
    absent |= {c for c in product.column_names if c not in names}
    required = {product.column(c).name for c in product.required_sources}
    if required & absent:
        raise ValueError(
            f"{path.name}: {product.name} columns {sorted(required & absent)} are absent; identity and "
            "billing need them"
        )
    return names, absent


def _merge_sql(
    product: Product, stage: sql.Identifier, target: sql.Composed, moved: sql.Identifier, absent: set[str]
) -> sql.Composed | sql.SQL:
    record_id = product.record_id_column.name
    data = list(product.column_names)
    compared = [c for c in data if c != record_id and c not in absent]
    return _sql(
        "load_merge.sql",
        stage=stage,
        target=target,
        moved=moved,
        record_id=sql.Identifier(record_id),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in data),
        values=sql.SQL(", ").join(sql.Identifier("m" if c in absent else "s", c) for c in data),
        assignments=sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in compared
        ),
        target_compared=sql.SQL(", ").join(sql.Identifier("t", c) for c in compared),
        excluded_compared=sql.SQL(", ").join(sql.Identifier("excluded", c) for c in compared),
    )


def _copy_parquet(
    conn: psycopg.Connection, stage: sql.Identifier, path: Path, names: list[str], absent: set[str]
) -> int:
    """COPY the carried columns of the file into staging (absent ones stay NULL there and are not used)."""
    carried = [n for n in names if n not in absent]
    parquet = pq.ParquetFile(path)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        stage, sql.SQL(", ").join(sql.Identifier(n) for n in carried)
    )
    rows = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for batch in parquet.iter_batches(batch_size=COPY_BATCH_ROWS, columns=carried):
            if batch.num_rows:
                copy.write(copy_text(batch))
                rows += batch.num_rows
    return rows


def _quarantine_rows(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _no_nul(text: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; keep the evidence readable instead of failing the load.
    return None if text is None else text.replace("\x00", "\\x00")


def _copy_quarantine(conn: psycopg.Connection, load_id: int, req: LoadRequest, path: Path) -> int:
    rows = 0
    with conn.cursor() as cur, cur.copy(_sql("load_quarantine_copy.sql")) as copy:
        for row in _quarantine_rows(path):
            raw_b64 = row.get("raw_bytes_b64")
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
                    None if raw_b64 is None else base64.b64decode(raw_b64),
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
    if req.rows_expected is not None and req.rows_expected != result.rows_read:
        raise IncompleteFile(
            f"{req.source_file or result.parquet_path.name}: the {req.product.name} report announced "
            f"{req.rows_expected} rows (items_count) but {result.rows_read} were read "
            f"({result.rows_ok} typed, {result.rows_quarantined} quarantined); refusing to load a short or "
            "damaged file as a complete window"
        )
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
    names, absent = _carried_columns(product, result.parquet_path)
    low = min(window_start, result.event_time_min or window_start)
    high = max(window_end, result.event_time_max or window_end) + PARTITION_MARGIN
    partitions_created = ensure_partitions(conn, low, high)
    airflow = dict(req.airflow or {})
    direction = req.direction or ""
    stage = sql.Identifier(STAGE_TABLE)
    moved = sql.Identifier(MOVED_TABLE)
    target = sql.Identifier("cdr", product.table)
    record_id = sql.Identifier(product.record_id_column.name)
    with conn.transaction():
        if req.report_request_id is not None:
            conn.execute(_sql("load_lock.sql"), {"scope": "cdr.load_report", "key": req.report_request_id})
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
                "rows_expected": req.rows_expected,
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
        load_id, cdrs_billed = int(row[0]), int(row[1])
        conn.execute(_sql("load_stage_create.sql", stage=stage, target=target))
        conn.execute(_sql("load_stage_prepare.sql", stage=stage))
        copy_started = time.perf_counter()
        staged = _copy_parquet(conn, stage, result.parquet_path, names, absent)
        if staged != result.rows_ok:
            raise RuntimeError(
                f"the Parquet file holds {staged} rows, normalization reported {result.rows_ok}"
            )
        conn.execute(_sql("load_stage_analyze.sql", stage=stage))
        duplicates = conn.execute(_sql("load_stage_dedupe.sql", stage=stage, record_id=record_id)).rowcount
        rows_loaded = staged - duplicates
        lock_started = time.perf_counter()
        conn.execute(_sql("load_lock.sql"), {"scope": "cdr.load_merge", "key": product.table})
        move_started = time.perf_counter()
        conn.execute(_sql("load_moved_create.sql", moved=moved, target=target))
        rows_moved = conn.execute(
            _sql("load_move.sql", stage=stage, target=target, moved=moved, record_id=record_id)
        ).rowcount
        merge_started = time.perf_counter()
        counts = conn.execute(
            _merge_sql(product, stage, target, moved, absent), {"source": req.mode, "load_id": load_id}
        ).fetchone()
        log.info(
            "load %s %s: COPY %d rows into staging and de-duplicate in %.1fs, wait for the merge lock %.1fs, "
            "move %.1fs, merge %.1fs",
            load_id,
            product.name,
            staged,
            lock_started - copy_started,
            move_started - lock_started,
            merge_started - move_started,
            time.perf_counter() - merge_started,
        )
        assert counts is not None
        rows_inserted, rows_updated = (int(v) for v in counts)
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
                "rows_duplicate": duplicates,
                "rows_moved": rows_moved,
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
        rows_duplicate=duplicates,
        partitions_created=partitions_created,
        seconds=time.perf_counter() - started,
        rows_moved=rows_moved,
        cdrs_billed=cdrs_billed,
        missing_columns=tuple(result.missing_columns),
    )

"""Load one normalized file into its product table in one transaction: insert, compare or merge; account.

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
   (:class:`IncompleteFile`); nothing is committed.
4. **Billed once.** ``cdrs_billed`` is 0 when an earlier committed load already recorded the same report.

Everything a load writes (the rows, the quarantine of the window, the ledger row, and whatever the caller adds
through ``extra_sql_in_txn``, e.g. the sync watermark) commits in ONE transaction: a crash or a retry never
leaves rows without their ledger entry or a watermark ahead of its data.

How it is fast (measured in docs/performance.md; ``make bench``). The rows go to PostgreSQL batch by batch
in COPY BINARY (:mod:`.copy_binary`), and which way they go is decided from the first batch:

* **insert**: none of a sample of the first batch's record ids is stored yet and no other load is merging
  into the table. The rows are COPYed straight into the product table, the way a first load of a day should
  cost: one COPY, no staging, no merge. Afterwards two checks over the file's (id, event time) keys prove the
  guess (no id repeated in the file, no id stored under another event time); an id stored under the same
  event time already fails the COPY's primary key. A failed check rolls back to a savepoint and the file is
  merged instead.
* **compare**: some ids are stored: each batch is COPYed into a temporary table and only the rows that are
  new or differ from the stored ones are kept (``load_batch_classify.sql``). A reload of an unchanged file
  therefore reads the table and writes nothing to it: no row lock, no WAL. The kept rows are merged at the
  end (``load_move.sql``, ``load_merge.sql``), under the merge lock.
* **merge** (the general path, used when a file repeats a record id or a guess failed): stage the whole file,
  keep each id's last occurrence, drop the unchanged rows, move, merge.

:func:`load_while_normalizing` runs the load beside the normalizer, so the normalizer's core and the
database's core work at the same time; :func:`load_normalized` loads a file normalized before.

Monthly partitions of the product's table are created first in their own short transaction
(``cdr.ensure_product_partitions``), so the partition lock is not held for the length of the load and no
other table is locked. A streamed load does not know its rows' event times
in advance: it covers the window (with a margin) and, when a row falls outside, rolls everything back,
creates the missing months and loads the finished file again.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from include.vonage_cdr.background import ahead
from include.vonage_cdr.normalize import NormalizeResult, parquet_schema
from include.vonage_cdr.normalize.core import ABSENT_COLUMNS_KEY
from include.vonage_cdr.normalize.errors import IncompleteFile
from include.vonage_cdr.products import Product
from include.vonage_cdr.storage import Location, open_parquet, open_text, row_group_batches
from include.vonage_cdr.warehouse.connect import connect
from include.vonage_cdr.warehouse.copy_binary import BINARY_HEADER, BINARY_TRAILER, BinaryRowEncoder

log = logging.getLogger(__name__)

__all__ = [
    "PARTITION_MARGIN",
    "IncompleteFile",
    "LoadRequest",
    "LoadResult",
    "ensure_partitions",
    "load_normalized",
    "load_while_normalizing",
]

SQL_DIR = Path(__file__).resolve().parent / "sql"
STAGE_TABLE = "_cdr_load_stage"
MOVED_TABLE = "_cdr_load_moved"
FLAGGED_TABLE = "_cdr_load_flagged"
CHANGED_TABLE = "_cdr_load_changed"
KEYS_TABLE = "_cdr_load_keys"
#: flagged row numbers fetched at a time for the second read of a file
FLAGGED_FETCH_ROWS = 65_536
#: rows per batch read from a Parquet file (the normalizer's batches are 16,384 rows too)
READ_BATCH_ROWS = 16_384
#: rows encoded at a time: the COPY buffers stay small (about 3 MiB) whatever the batch size
ENCODE_ROWS = 8_192
#: encoded slices (insert) or batches (compare) waiting for the database, encoded ahead by a thread
PREPARED_SLICES = 2
PREPARED_BATCHES = 1
#: record ids of the first batch looked up to choose between inserting and comparing
PREDICT_SAMPLE = 2_048
#: work_mem of the load's transaction (sorts of record ids, hashes of staged rows)
LOAD_WORK_MEM = "128MB"
#: normalized batches waiting for the database while streaming; bounds memory (about 15 MiB each)
STREAM_QUEUE_BATCHES = 1
#: COPY data (in 128 KiB chunks) queued for the socket; bounds memory while PostgreSQL catches up
COPY_QUEUE_CHUNKS = 64
#: partitions are ensured up to window_end + this, so a record stamped at the window's very end still lands.
PARTITION_MARGIN = timedelta(days=1)
META_COLUMNS = ("event_time", "extras")

Strategy = Literal["insert", "compare", "merge"]


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
    billed by an earlier load). ``strategy`` is the way the rows went in (insert, compare or merge, see the
    module docstring) and ``stages`` the seconds spent per step, for logs and the benchmark."""

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
    strategy: str = "merge"
    stages: Mapping[str, float] = field(default_factory=dict)


@cache
def _sql_text(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _sql(name: str, **identifiers: sql.Composable) -> sql.Composed | sql.SQL:
    template = sql.SQL(_sql_text(name))  # type: ignore[arg-type]  # trusted file from the package
    return template.format(**identifiers) if identifiers else template


class _Fallback(Exception):
    """The streamed strategy cannot prove its result; merge the finished file instead (same transaction)."""


class _OutOfRange(Exception):
    """A streamed row falls in a month the load did not ensure a partition for."""


class _Restart(Exception):
    """Rows fall in months without a partition: roll back, create them, load the finished file again."""

    def __init__(self, low: datetime, high: datetime) -> None:
        super().__init__(f"partitions needed for {low.isoformat()}..{high.isoformat()}")
        self.low, self.high = low, high


# -- small helpers ------------------------------------------------------------------------------------------
def _aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got {value!r}")
    return value


def _month(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    return datetime(value.year, value.month, 1, tzinfo=UTC)


def _next_month(value: datetime) -> datetime:
    start = _month(value)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


@dataclass(frozen=True)
class _Months:
    """The event times the ensured partitions can take: [first month's start, last month's end)."""

    start: datetime
    end: datetime

    @classmethod
    def covering(cls, low: datetime, high: datetime) -> _Months:
        return cls(_month(low), _next_month(high))

    def holds(self, low: datetime | None, high: datetime | None) -> bool:
        return low is None or high is None or (self.start <= low and high < self.end)


def _file_columns(product: Product, path: Location) -> tuple[list[str], set[str]]:
    """The file's columns, and the registry columns it does not carry (absent: unknown, kept on merge).

    Every file column must be known to the product; a lake file may predate newer registry columns, which
    then count as absent, like the columns its source lacked (``vonage_cdr.absent_columns``).
    """
    parquet = open_parquet(path)  # a local file, or a lake file on object storage (footer only)
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
    _refuse_required_absent(product, absent, path.name)
    return names, absent


def _refuse_required_absent(product: Product, absent: set[str], what: str) -> None:
    required = {product.column(c).name for c in product.required_sources}
    if required & absent:
        raise ValueError(
            f"{what}: {product.name} columns {sorted(required & absent)} are absent; identity and "
            "billing need them"
        )


def _absent_of(product: Product, result: NormalizeResult) -> set[str]:
    return {product.column(c).name for c in result.absent_columns}


def parquet_batches(path: Location, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The file's record batches, one at a time, one row group at a time (a local file or a lake file on
    object storage: one ranged read per row group). Memory stays bounded: ``open_parquet`` turns Arrow's
    read-ahead off, which kept coalesced row groups and grew about 30 MiB per million rows
    (docs/performance.md)."""
    yield from row_group_batches(open_parquet(path), batch_size=READ_BATCH_ROWS, columns=columns)


class _CopyWriter(QueuedLibpqWriter):
    """psycopg's queued COPY writer (a thread pushes the data while the caller encodes the next batch),
    with a short queue so memory stays bounded when PostgreSQL is slower than the encoder."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        super().__init__(cursor)
        self._queue = queue.Queue(maxsize=COPY_QUEUE_CHUNKS)


def _copy(
    conn: psycopg.Connection, table: sql.Composable, columns: list[str], rows: Iterable[pa.Buffer]
) -> None:
    """One COPY BINARY of already encoded rows (psycopg's queued writer pushes them from a thread)."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        table, sql.SQL(", ").join(sql.Identifier(n) for n in columns)
    )
    with conn.cursor() as cur, cur.copy(statement, writer=_CopyWriter(cur)) as copy:
        copy.write(BINARY_HEADER)
        for buffer in rows:
            copy.write(memoryview(buffer))
        copy.write(BINARY_TRAILER)


def _encoded(encoder: BinaryRowEncoder, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.Buffer]:
    """The batches' rows, encoded ENCODE_ROWS at a time (small buffers: bounded memory)."""
    for batch in batches:
        for offset in range(0, batch.num_rows, ENCODE_ROWS):
            yield encoder.encode(batch.slice(offset, ENCODE_ROWS)).rows


def _compared(product: Product, absent: set[str]) -> list[str]:
    """The columns a merge compares and writes: carried ones, not the record id."""
    record_id = product.record_id_column.name
    return [c for c in product.column_names if c != record_id and c not in absent]


def _column_lists(columns: list[str]) -> dict[str, sql.Composable]:
    return {
        "target_compared": sql.SQL(", ").join(sql.Identifier("t", c) for c in columns),
        "stage_compared": sql.SQL(", ").join(sql.Identifier("s", c) for c in columns),
    }


def _merge_sql(
    product: Product, stage: sql.Identifier, target: sql.Composed, moved: sql.Identifier, absent: set[str]
) -> sql.Composed | sql.SQL:
    data = list(product.column_names)
    compared = _compared(product, absent)
    return _sql(
        "load_merge.sql",
        stage=stage,
        target=target,
        moved=moved,
        record_id=sql.Identifier(product.record_id_column.name),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in data),
        values=sql.SQL(", ").join(sql.Identifier("m" if c in absent else "s", c) for c in data),
        assignments=sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in compared
        ),
        target_compared=sql.SQL(", ").join(sql.Identifier("t", c) for c in compared),
        excluded_compared=sql.SQL(", ").join(sql.Identifier("excluded", c) for c in compared),
        target_absent_null=_all_null("t", sorted(absent)),
        moved_absent_null=_all_null("m", sorted(absent)),
    )


def _all_null(alias: str, columns: list[str]) -> sql.Composable:
    if not columns:
        return sql.SQL("true")
    return sql.SQL("({})").format(
        sql.SQL(" AND ").join(sql.SQL("{} IS NULL").format(sql.Identifier(alias, c)) for c in columns)
    )


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


def _wait_for_turn(conn: psycopg.Connection, *, scope: str, key: str) -> None:
    """Take a load's advisory lock (``load_lock.sql``), waiting as long as the other load needs.

    The session's ``lock_timeout`` (60 s by default) is meant for a stuck table lock; another load of the
    same report or table may rightly hold this one for minutes (a 10-million-row merge), so the wait is
    bounded by ``statement_timeout`` instead, as the migration lock is (warehouse/migrate.py).
    """
    conn.execute("SET LOCAL lock_timeout = 0")
    conn.execute(_sql("load_lock.sql"), {"scope": scope, "key": key})
    conn.execute("SET LOCAL lock_timeout TO DEFAULT")  # the session's bound again, for every other lock


def ensure_partitions(conn: psycopg.Connection, table: str, low: datetime, high: datetime) -> int:
    """Create the monthly partitions of ``cdr.<table>`` for [low, high] in a short transaction of its own.

    Only that table is locked, and only when a month is missing: other products' loads and analysts'
    reads of other tables never wait on it (``cdr.ensure_product_partitions``).
    """
    with conn.transaction():
        row = conn.execute(
            _sql("load_ensure_partitions.sql"), {"table": table, "from": low, "to": high}
        ).fetchone()
    return int(row[0]) if row else 0


# -- the counts of one strategy -----------------------------------------------------------------------------
@dataclass
class _Counts:
    loaded: int = 0
    inserted: int = 0
    updated: int = 0
    duplicate: int = 0
    moved: int = 0

    @property
    def unchanged(self) -> int:
        return self.loaded - self.inserted - self.updated


class _Names:
    """Quoted identifiers of one load."""

    def __init__(self, product: Product) -> None:
        self.target = sql.Identifier("cdr", product.table)
        self.record_id = sql.Identifier(product.record_id_column.name)
        self.stage = sql.Identifier(STAGE_TABLE)
        self.moved = sql.Identifier(MOVED_TABLE)
        self.flagged = sql.Identifier(FLAGGED_TABLE)
        self.changed = sql.Identifier(CHANGED_TABLE)
        self.keys = sql.Identifier(KEYS_TABLE)

    def identifiers(self) -> dict[str, sql.Composable]:
        return {
            "target": self.target,
            "record_id": self.record_id,
            "flagged": self.flagged,
            "changed": self.changed,
            "keys": self.keys,
        }


class _Timer:
    def __init__(self) -> None:
        self.stages: dict[str, float] = {}

    def add(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.stages[name] = self.stages.get(name, 0.0) + now - since
        return now


def _canonical(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """The batch with every column of the product's normalized schema, in order: a lake file written
    before a registry column existed lacks it (NULL here). Fingerprints are only comparable this way."""
    if batch.schema.names == schema.names:
        return batch
    columns = [
        batch.column(f.name) if f.name in batch.schema.names else pa.nulls(batch.num_rows, f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _row_encoder(product: Product, req: LoadRequest, load_id: int) -> BinaryRowEncoder:
    """Full rows of the product table as the load writes them: its constants, the fingerprint, the data."""
    return BinaryRowEncoder(
        parquet_schema(product).names,
        jsonb_columns=["extras"],
        constants={"_source": (req.mode, "text"), "_load_id": (load_id, "int8")},
        row_hash="_row_hash",
    )


# -- strategies insert / compare (streamed batch by batch) --------------------------------------------------
class _Streamed:
    """Takes the file's batches as they come; :meth:`finish` proves and completes the chosen strategy.

    Raises :class:`_Fallback` when the result cannot be shown exact (an id repeated in the file, an id stored
    under another event time or under the same one): the caller rolls back to the savepoint and merges.
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        req: LoadRequest,
        load_id: int,
        names: _Names,
        months: _Months,
        timer: _Timer,
    ) -> None:
        self.conn = conn
        self.req = req
        self.product = req.product
        self.schema = parquet_schema(self.product)
        self.load_id = load_id
        self.n = names
        self.months = months
        self.timer = timer
        self.strategy: Strategy | None = None
        self.rows = 0
        self.flagged = 0
        self._next_ord = 0  # row number in the file of the next row fingerprinted
        self.encoder = _row_encoder(self.product, req, load_id)
        record_id = self.product.record_id_column.name
        self._keys_encoder = BinaryRowEncoder([record_id, "event_time"])
        self._compare_keys_encoder = BinaryRowEncoder([record_id, "event_time", "_row_hash", "_ord"])
        conn.execute(_sql("load_fast_tables.sql", **names.identifiers()))

    def _merge_lock(self, *, wait: bool) -> bool:
        params = {"scope": "cdr.load_merge", "key": self.product.table}
        if wait:
            _wait_for_turn(self.conn, **params)
            return True
        row = self.conn.execute(_sql("load_try_lock.sql"), params).fetchone()
        return bool(row and row[0])

    def _choose(self, batch: pa.RecordBatch) -> Strategy:
        ids = batch.column(self.product.record_id_column.name)
        step = max(1, len(ids) // PREDICT_SAMPLE)
        sample = pc.drop_null(ids.take(pa.array(range(0, len(ids), step)))).to_pylist()
        predict = _sql("load_predict.sql", **self.n.identifiers())
        stored = self.conn.execute(predict, {"ids": sample}).fetchone()
        if stored and stored[0]:
            return "compare"
        return "insert" if self._merge_lock(wait=False) else "compare"

    def run(self, batches: Iterator[pa.RecordBatch]) -> None:
        """Choose the strategy on the first non-empty batch, then take every batch. The encoding runs a
        batch or two ahead in a thread of its own (:func:`include.vonage_cdr.background.ahead`)."""
        canonical = (_canonical(b, self.schema) for b in batches if b.num_rows)
        first = next(canonical, None)
        if first is None:
            return
        started = time.perf_counter()
        bounds = pc.min_max(first.column("event_time"))
        in_range = self.months.holds(bounds["min"].as_py(), bounds["max"].as_py())
        self.strategy = self._choose(first) if in_range else "compare"
        self.timer.add("choose", started)
        rest = itertools.chain([first], canonical)
        if self.strategy == "insert":
            slices = (b.slice(o, ENCODE_ROWS) for b in rest for o in range(0, b.num_rows, ENCODE_ROWS))
            self._insert(ahead(map(self._encode_rows, slices), PREPARED_SLICES, name="cdr-load-encode"))
        else:
            self._compare(ahead(map(self._fingerprint, rest), PREPARED_BATCHES, name="cdr-load-encode"))

    def _encode_rows(self, rows: pa.RecordBatch) -> tuple[int, pa.Buffer, pa.Buffer]:
        """Insert strategy: full rows (with fingerprints) and keys of a slice of a batch, encoded."""
        bounds = pc.min_max(rows.column("event_time"))
        if not self.months.holds(bounds["min"].as_py(), bounds["max"].as_py()):
            raise _OutOfRange()
        return rows.num_rows, self.encoder.encode(rows).rows, self._keys_encoder.encode(rows).rows

    def _insert(self, prepared: Iterator[tuple[int, pa.Buffer, pa.Buffer]]) -> None:
        """One COPY straight into the product table; the keys go to a local file, COPYed afterwards."""
        started = time.perf_counter()
        with tempfile.TemporaryFile(prefix="cdr-load-keys-") as keys:
            keys.write(BINARY_HEADER)

            def rows() -> Iterator[pa.Buffer]:
                for count, encoded, slice_keys in prepared:
                    keys.write(memoryview(slice_keys))
                    self.rows += count
                    yield encoded

            try:
                _copy(self.conn, self.n.target, self.encoder.field_names, rows())
            except psycopg.errors.UniqueViolation as exc:
                raise _Fallback(
                    f"a record is already stored under the same event time ({exc.diag.message_detail})"
                ) from None
            started = self.timer.add("copy into the table", started)
            keys.write(BINARY_TRAILER)
            keys.seek(0)
            statement = sql.SQL("COPY {} ({}, event_time) FROM STDIN (FORMAT BINARY)").format(
                self.n.keys, self.n.record_id
            )
            with self.conn.cursor() as cur, cur.copy(statement) as copy:
                while chunk := keys.read(1 << 20):
                    copy.write(chunk)
            self.timer.add("copy the keys", started)

    def _fingerprint(self, batch: pa.RecordBatch) -> tuple[int, pa.Buffer]:
        """Compare strategy: the batch's keys, fingerprints and row numbers, encoded."""
        hashes = self.encoder.fingerprints(batch)  # only 16 bytes a row are kept: the whole batch at once
        record_id = self.product.record_id_column.name
        first = self._next_ord
        self._next_ord += batch.num_rows
        keys = pa.RecordBatch.from_arrays(
            [
                batch.column(record_id),
                batch.column("event_time"),
                hashes,
                pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64)),
            ],
            names=[record_id, "event_time", "_row_hash", "_ord"],
        )
        return batch.num_rows, self._compare_keys_encoder.encode(keys).rows

    def _compare(self, prepared: Iterator[tuple[int, pa.Buffer]]) -> None:
        """Only keys and fingerprints go to PostgreSQL, in one COPY beside the normalizer; :meth:`finish`
        compares them with the table in one statement."""
        started = time.perf_counter()
        # a record id twice in the file fails the COPY at once (the merge then keeps the last occurrence):
        # the check costs PostgreSQL a btree insert per row while it would otherwise wait for the normalizer
        self.conn.execute(_sql("load_keys_unique.sql", **self.n.identifiers()))

        def rows() -> Iterator[pa.Buffer]:
            for count, keys in prepared:
                self.rows += count
                yield keys

        try:
            _copy(self.conn, self.n.keys, self._compare_keys_encoder.field_names, rows())
        except psycopg.errors.UniqueViolation as exc:
            raise _Fallback(f"the file repeats a record id ({exc.diag.message_detail})") from None
        self.timer.add("copy keys and fingerprints", started)

    def finish(self, result: NormalizeResult, absent: set[str]) -> _Counts:
        """Prove the strategy (or raise _Fallback) and complete it; ``absent`` is the file's final set."""
        started = time.perf_counter()
        if self.strategy is None:
            return _Counts()
        if self.strategy == "insert":
            # one check covers both: an id stored before under another event time, and an id the file repeats
            # under another one (now stored twice); the same id and time twice failed the primary key already
            self.conn.execute(sql.SQL("ANALYZE {}").format(self.n.keys))
            moved = self.conn.execute(_sql("load_check_moved.sql", **self.n.identifiers())).fetchone()
            self.timer.add("check moved records", started)
            if moved and moved[0]:
                raise _Fallback(f"{moved[0]} records are stored under two event times")
            return _Counts(loaded=self.rows, inserted=self.rows)
        self.conn.execute(sql.SQL("ANALYZE {}").format(self.n.keys))
        bounds = {"low": result.event_time_min, "high": result.event_time_max}
        self.flagged = self.conn.execute(_sql("load_classify.sql", **self.n.identifiers()), bounds).rowcount
        started = self.timer.add("compare with the table", started)
        if not self.flagged:
            return _Counts(loaded=self.rows)
        self._copy_flagged(result.parquet_path)
        started = self.timer.add("copy the changed rows", started)
        counts = _settle(self.conn, self.req, self.load_id, self.n, self.n.changed, absent, self.timer)
        counts.loaded = self.rows
        return counts

    def _copy_flagged(self, path: Location) -> None:
        """Read the flagged rows again from the finished file (row numbers ascending, a chunk at a time)."""
        with self.conn.cursor(name="cdr_load_flagged") as flagged:
            flagged.itersize = FLAGGED_FETCH_ROWS
            flagged.execute(_sql("load_flagged.sql", **self.n.identifiers()))
            pending = np.empty(0, dtype=np.int64)
            exhausted = False

            def rows_before(end: int) -> np.ndarray:
                nonlocal pending, exhausted
                while not exhausted and (len(pending) == 0 or pending[-1] < end):
                    chunk = flagged.fetchmany(FLAGGED_FETCH_ROWS)
                    if not chunk:
                        exhausted = True
                        break
                    pending = np.concatenate([pending, np.fromiter((r[0] for r in chunk), np.int64)])
                cut = int(np.searchsorted(pending, end))
                taken, pending = pending[:cut], pending[cut:]
                return taken

            def selected() -> Iterator[pa.RecordBatch]:
                offset = 0
                for batch in parquet_batches(path):
                    take = rows_before(offset + batch.num_rows) - offset
                    if len(take):
                        yield _canonical(batch, self.schema).take(pa.array(take))
                    offset += batch.num_rows

            # the cursor's FETCHes and a COPY cannot interleave on one connection: one COPY per batch
            for batch in selected():
                _copy(self.conn, self.n.changed, self.encoder.field_names, _encoded(self.encoder, [batch]))


def _settle(
    conn: psycopg.Connection,
    req: LoadRequest,
    load_id: int,
    n: _Names,
    stage: sql.Identifier,
    absent: set[str],
    timer: _Timer,
) -> _Counts:
    """Merge staged rows (one per record id): store missing fingerprints, drop unchanged rows, then, under
    the merge lock, move records whose event time changed and insert/update the rest."""
    product = req.product
    started = time.perf_counter()
    identifiers = {"stage": stage, "target": n.target, "record_id": n.record_id}
    # every column: the staged row holds NULL where the file carried nothing, so equal rows are the same row
    everything = [c for c in product.column_names if c != product.record_id_column.name]
    conn.execute(_sql("load_hash_backfill.sql", **identifiers, **_column_lists(everything)))
    conn.execute(_sql("load_stage_unchanged.sql", **identifiers, **_column_lists(_compared(product, absent))))
    started = timer.add("compare with the table", started)
    _wait_for_turn(conn, scope="cdr.load_merge", key=product.table)
    started = timer.add("wait for the merge lock", started)
    conn.execute(_sql("load_moved_create.sql", moved=n.moved, target=n.target))
    moved = conn.execute(
        _sql("load_move.sql", stage=stage, target=n.target, moved=n.moved, record_id=n.record_id)
    ).rowcount
    merged = conn.execute(
        _merge_sql(product, stage, n.target, n.moved, absent), {"source": req.mode, "load_id": load_id}
    ).fetchone()
    timer.add("merge the changed rows", started)
    assert merged is not None
    return _Counts(inserted=int(merged[0]), updated=int(merged[1]), moved=moved)


# -- strategy merge (the whole file staged) -----------------------------------------------------------------
def _merge_file(
    conn: psycopg.Connection,
    req: LoadRequest,
    load_id: int,
    n: _Names,
    path: Location,
    rows_ok: int,
    timer: _Timer,
) -> _Counts:
    product = req.product
    _names, absent = _file_columns(product, path)
    schema = parquet_schema(product)
    started = time.perf_counter()
    conn.execute(_sql("load_stage_create.sql", stage=n.stage, target=n.target))
    conn.execute(_sql("load_stage_prepare.sql", stage=n.stage))
    encoder = _row_encoder(product, req, load_id)
    staged = 0

    def counted() -> Iterator[pa.RecordBatch]:
        nonlocal staged
        for batch in parquet_batches(path):
            staged += batch.num_rows
            yield _canonical(batch, schema)

    _copy(conn, n.stage, encoder.field_names, _encoded(encoder, counted()))
    if staged != rows_ok:
        raise RuntimeError(f"the Parquet file holds {staged} rows, normalization reported {rows_ok}")
    started = timer.add("copy into staging", started)
    conn.execute(_sql("load_stage_analyze.sql", stage=n.stage))
    duplicates = conn.execute(_sql("load_stage_dedupe.sql", stage=n.stage, record_id=n.record_id)).rowcount
    timer.add("drop duplicate ids", started)
    counts = _settle(conn, req, load_id, n, n.stage, absent, timer)
    counts.loaded = staged - duplicates
    counts.duplicate = duplicates
    return counts


# -- one load -----------------------------------------------------------------------------------------------
def _load(
    conn: psycopg.Connection,
    req: LoadRequest,
    batches: Iterator[pa.RecordBatch],
    finished: Callable[[], NormalizeResult],
    *,
    months: _Months,
    absent: set[str] | None,
    partitions_created: int,
    extra_sql_in_txn: Callable[[psycopg.Connection, int], None] | None,
) -> LoadResult:
    """One load transaction: rows from ``batches`` (streamed or read from the file), then ``finished()``."""
    started = time.perf_counter()
    timer = _Timer()
    product = req.product
    airflow = dict(req.airflow or {})
    direction = req.direction or ""
    n = _Names(product)
    with conn.transaction():
        conn.execute(_sql("load_session.sql"), {"work_mem": LOAD_WORK_MEM})
        if req.report_request_id is not None:
            _wait_for_turn(conn, scope="cdr.load_report", key=req.report_request_id)
        row = conn.execute(
            _sql("load_ledger_insert.sql"),
            {
                "product": product.name,
                "account_id": req.account_id,
                "direction": direction,
                "mode": req.mode,
                "window_start": req.window_start,
                "window_end": req.window_end,
                "report_request_id": req.report_request_id,
                "source_file": req.source_file,
                "rows_expected": req.rows_expected,
                "rows_read": 0,  # known at the end when streaming: load_ledger_finish.sql
                "rows_quarantined": 0,
                "cdrs_billed": req.cdrs_billed,
                "unknown_columns": [],
                "missing_columns": [],
                "started_at": req.started_at,
                "download_seconds": req.download_seconds,
                "normalize_seconds": None,
                "dag_id": airflow.get("dag_id"),
                "run_id": airflow.get("run_id"),
                "task_id": airflow.get("task_id"),
                "try_number": airflow.get("try_number"),
            },
        ).fetchone()
        assert row is not None
        load_id, cdrs_billed = int(row[0]), int(row[1])
        timer.add("begin", started)
        streamed: _Streamed | None = None
        try:
            with conn.transaction():  # a savepoint: a strategy that cannot prove its result is undone
                streamed = _Streamed(conn, req, load_id, n, months, timer)
                streamed.run(batches)
                result = _checked(req, finished(), months)
                counts = streamed.finish(result, _absent_of(product, result) if absent is None else absent)
            strategy: str = streamed.strategy or "insert"
        except _OutOfRange:
            for _ in batches:  # let the normalizer finish the file, then load it again with its months
                pass
            _check_expected(req, finished())
            raise _Restart(*_partition_range(req, finished())) from None
        except _Fallback as why:
            log.info("load %s %s: merging the whole file instead: %s", load_id, product.name, why)
            for _ in batches:  # a streamed file: let the normalizer finish it
                pass
            result = _checked(req, finished(), months)
            counts = _merge_file(conn, req, load_id, n, result.parquet_path, result.rows_ok, timer)
            strategy = "merge"
        quarantine_started = time.perf_counter()
        conn.execute(
            _sql("load_quarantine_delete.sql"),
            {
                "product": product.name,
                "account_id": req.account_id,
                "direction": direction,
                "window_start": req.window_start,
                "window_end": req.window_end,
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
        if counts.loaded + counts.duplicate != result.rows_ok:
            raise RuntimeError(
                f"the load accounted for {counts.loaded + counts.duplicate} rows, normalization typed "
                f"{result.rows_ok}"
            )
        seconds = time.perf_counter() - started
        conn.execute(
            _sql("load_ledger_finish.sql"),
            {
                "load_id": load_id,
                "rows_read": result.rows_read,
                "rows_quarantined": result.rows_quarantined,
                "unknown_columns": list(result.unknown_columns),
                "missing_columns": list(result.missing_columns),
                "normalize_seconds": result.seconds,
                "rows_loaded": counts.loaded,
                "rows_inserted": counts.inserted,
                "rows_updated": counts.updated,
                "rows_unchanged": counts.unchanged,
                "rows_duplicate": counts.duplicate,
                "rows_moved": counts.moved,
                "load_seconds": seconds,
            },
        )
        commit_started = timer.add("quarantine and ledger", quarantine_started)
    timer.add("commit", commit_started)
    log.info(
        "load %s %s: %d rows %s in %.1fs (%s)",
        load_id,
        product.name,
        counts.loaded,
        strategy,
        time.perf_counter() - started,
        ", ".join(f"{k} {v:.2f}s" for k, v in timer.stages.items()),
    )
    return LoadResult(
        load_id=load_id,
        rows_read=result.rows_read,
        rows_loaded=counts.loaded,
        rows_inserted=counts.inserted,
        rows_updated=counts.updated,
        rows_unchanged=counts.unchanged,
        rows_quarantined=quarantined,
        rows_duplicate=counts.duplicate,
        partitions_created=partitions_created,
        seconds=time.perf_counter() - started,
        rows_moved=counts.moved,
        cdrs_billed=cdrs_billed,
        missing_columns=tuple(result.missing_columns),
        strategy=strategy,
        stages=dict(timer.stages),
    )


def _checked(req: LoadRequest, result: NormalizeResult, months: _Months) -> NormalizeResult:
    """The finished file, refused when short; a restart when its rows need months not yet partitioned."""
    _check_expected(req, result)
    if not months.holds(result.event_time_min, result.event_time_max):
        raise _Restart(*_partition_range(req, result))
    return result


def _check_expected(req: LoadRequest, result: NormalizeResult) -> None:
    if req.rows_expected is not None and req.rows_expected != result.rows_read:
        raise IncompleteFile(
            f"{req.source_file or result.parquet_path.name}: the {req.product.name} report announced "
            f"{req.rows_expected} rows (items_count) but {result.rows_read} were read "
            f"({result.rows_ok} typed, {result.rows_quarantined} quarantined); refusing to load a short or "
            "damaged file as a complete window"
        )


def _partition_range(req: LoadRequest, result: NormalizeResult) -> tuple[datetime, datetime]:
    low = min(req.window_start, result.event_time_min or req.window_start)
    high = max(req.window_end, result.event_time_max or req.window_end) + PARTITION_MARGIN
    return low, high


def _validate(req: LoadRequest) -> None:
    if req.mode not in ("async", "sync"):
        raise ValueError(f"mode must be 'async' or 'sync', got {req.mode!r}")
    _aware("window_start", req.window_start)
    _aware("window_end", req.window_end)
    _aware("started_at", req.started_at)


def _connection(conn_or_dsn: psycopg.Connection | str) -> tuple[psycopg.Connection, bool]:
    """The connection to load on, and whether it was opened here (and must be closed here)."""
    if isinstance(conn_or_dsn, str):
        return connect(conn_or_dsn, autocommit=True), True  # bounded session (warehouse/connect.py)
    if conn_or_dsn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise ValueError("load_normalized needs a connection outside any transaction (it commits its own)")
    return conn_or_dsn, False


def _load_file(
    conn: psycopg.Connection,
    req: LoadRequest,
    result: NormalizeResult,
    extra_sql_in_txn: Callable[[psycopg.Connection, int], None] | None,
) -> LoadResult:
    _names, absent = _file_columns(req.product, result.parquet_path)
    low, high = _partition_range(req, result)
    created = ensure_partitions(conn, req.product.table, low, high)
    return _load(
        conn,
        req,
        parquet_batches(result.parquet_path),
        lambda: result,
        months=_Months.covering(low, high),
        absent=absent,
        partitions_created=created,
        extra_sql_in_txn=extra_sql_in_txn,
    )


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
    _validate(req)
    _check_expected(req, result)
    conn, owned = _connection(conn_or_dsn)
    try:
        return _load_file(conn, req, result, extra_sql_in_txn)
    finally:
        if owned:
            conn.close()


# -- streaming beside the normalizer ------------------------------------------------------------------------
BatchSink = Callable[[pa.RecordBatch], None]
_END = object()


class _Stream:
    """Hands the normalizer's batches to the database thread through a short queue (bounded memory).

    The normalizer (caller's thread) blocks when the database is behind; the database thread blocks when
    the normalizer is. An error in either stops the other: the sink raises the database's error, and an
    aborted normalizer ends the batch iterator with :class:`_Aborted`.
    """

    def __init__(self) -> None:
        self.queue: queue.Queue[object] = queue.Queue(maxsize=STREAM_QUEUE_BATCHES)
        self.result: NormalizeResult | None = None
        self.failed: BaseException | None = None  # the database thread's error
        self.done = threading.Event()

    def sink(self, batch: pa.RecordBatch) -> None:
        while True:
            if self.failed is not None:
                raise _DatabaseFailed() from self.failed
            try:
                self.queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                continue

    def batches(self) -> Iterator[pa.RecordBatch]:
        while True:
            item = self.queue.get()
            if item is _END:
                return
            if isinstance(item, _Aborted):
                raise item
            assert isinstance(item, pa.RecordBatch)
            yield item

    def end(self, item: object) -> None:
        while self.failed is None and not self.done.is_set():
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


class _Aborted(Exception):
    """The normalizer failed; the load is rolled back."""


class _DatabaseFailed(Exception):
    """The load failed while the normalizer was still running (the cause is chained)."""


def load_while_normalizing(
    conn_or_dsn: psycopg.Connection | str,
    req: LoadRequest,
    normalize: Callable[[BatchSink], NormalizeResult],
    *,
    extra_sql_in_txn: Callable[[psycopg.Connection, int], None] | None = None,
) -> tuple[NormalizeResult, LoadResult]:
    """Normalize and load at once: ``normalize(sink)`` must call ``sink(batch)`` for every typed batch it
    writes (``normalize_zip(..., on_batch=sink)``) and return its result; the load runs beside it in a
    thread of its own, so the Parquet file and the table are written at the same time.

    Same guarantees as :func:`load_normalized` (one transaction, exact counts, ``rows_expected`` refused
    when short). The file is complete on disk when this returns, whatever way the rows went in.
    """
    _validate(req)
    conn, owned = _connection(conn_or_dsn)
    try:
        low, high = req.window_start - PARTITION_MARGIN, req.window_end + PARTITION_MARGIN
        created = ensure_partitions(conn, req.product.table, low, high)
        stream = _Stream()
        outcome: dict[str, Any] = {}

        def finished() -> NormalizeResult:
            assert stream.result is not None
            return stream.result

        def database() -> None:
            try:
                outcome["load"] = _load(
                    conn,
                    req,
                    stream.batches(),
                    finished,
                    months=_Months.covering(low, high),
                    absent=None,
                    partitions_created=created,
                    extra_sql_in_txn=extra_sql_in_txn,
                )
            except BaseException as exc:  # handed to the caller's thread below
                stream.failed = exc
                while True:  # unblock the normalizer until it notices
                    try:
                        if stream.queue.get_nowait() in (_END,):
                            break
                    except queue.Empty:
                        break
            finally:
                stream.done.set()

        worker = threading.Thread(target=database, name="cdr-load", daemon=True)
        worker.start()
        try:
            stream.result = normalize(stream.sink)
        except BaseException as exc:
            stream.end(_Aborted(f"normalizing failed: {exc}"))
            worker.join()
            if isinstance(exc, _DatabaseFailed) and stream.failed is not None:
                raise stream.failed from None
            raise
        stream.end(_END)
        worker.join()
        if stream.failed is not None:
            if not isinstance(stream.failed, _Restart):
                raise stream.failed
            restart = stream.failed
            log.info("load %s: %s; loading the finished file again", req.product.name, restart)
            ensure_partitions(conn, req.product.table, restart.low, restart.high)
            return stream.result, _load_file(conn, req, stream.result, extra_sql_in_txn)
        return stream.result, outcome["load"]
    finally:
        if owned:
            conn.close()

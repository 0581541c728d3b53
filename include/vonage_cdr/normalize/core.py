"""The sink every source (CSV in a ZIP, sync JSON records) feeds: typed Parquet plus a quarantine file.

Why one sink: the daily (CSV) and incremental (JSON) paths must type, validate and account for rows in
exactly the same way, or the same CDR would land differently depending on how it was fetched. A source
hands over batches of *string* columns keyed by wire name; the sink converts them with the registry, moves
unparseable rows to the quarantine file with their reason and raw text, and writes the rest as one Parquet
row group per batch. Both files are written to temporary names and moved into place only on success
(see :mod:`include.vonage_cdr.lake`), so a failed run never leaves a half file where a good one was.

Absent columns are unknown, not NULL. The sink records which known columns the source carried: a CSV
carries the columns of its header (of *every* member's header when a ZIP holds several), a JSON window the
keys at least one record carried. A column the source did not carry is written as NULL but listed in the
Parquet file's ``vonage_cdr.absent_columns`` metadata, and the loader neither compares nor overwrites it
(the value already stored is kept). A source lacking a column the product needs for identity or billing
(``Product.required_sources``) is refused with :class:`MissingRequiredColumns`; a JSON record lacking such a
key while other records carry it is quarantined instead.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from include.vonage_cdr.lake import quarantine_path_for
from include.vonage_cdr.normalize.convert import convert_column, empty_to_null
from include.vonage_cdr.normalize.errors import MissingRequiredColumns
from include.vonage_cdr.normalize.schema import EVENT_TIME, arrow_type, parquet_schema
from include.vonage_cdr.products import Product
from include.vonage_cdr.storage import Location

__all__ = ["ABSENT_COLUMNS_KEY", "BATCH_ROWS", "NormalizeResult", "NormalizedWriter", "extras_json"]

#: rows per Parquet row group / conversion batch: bounds memory whatever the report's size (with a load
#: streaming beside the normalizer, 32,768 held about 40 MiB more in flight: docs/performance.md).
BATCH_ROWS = 16_384
PARQUET_COMPRESSION = "zstd"
#: a column is dictionary-encoded when the first batch shows at most this share of distinct values
DICTIONARY_MAX_DISTINCT_SHARE = 0.1
DICTIONARY_SAMPLE_MIN_ROWS = 1_000
#: Parquet key-value metadata: JSON list of the (database) column names the source did not carry.
ABSENT_COLUMNS_KEY = b"vonage_cdr.absent_columns"


@dataclass(frozen=True)
class NormalizeResult:
    """What one normalization produced; ``rows_read == rows_ok + rows_quarantined`` always holds."""

    parquet_path: Location  # the normalizer writes a local Path; a LakePath when loading back from the lake
    quarantine_path: Location | None  # JSONL, one object per quarantined row; None when none was quarantined
    rows_read: int
    rows_ok: int
    rows_quarantined: int
    unknown_columns: tuple[str, ...]  # wire names kept in ``extras``
    #: expected wire columns (``Product.expected_sources``) the source lacked: real absences, for the ledger
    missing_columns: tuple[str, ...]
    seconds: float
    event_time_min: datetime | None = None  # range of the good rows' event_time (partitions to create)
    event_time_max: datetime | None = None
    #: every known wire column the source did not carry (optional ones too): unknown, kept on re-load
    absent_columns: tuple[str, ...] = ()


def extras_json(names: list[str], columns: list[list[object]]) -> list[str]:
    """One JSON object per row from the unknown columns' values (keyed by wire name, nulls kept)."""
    if not names:
        return []
    return [
        json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False, separators=(",", ":"))
        for row in zip(*columns, strict=True)
    ]


class NormalizedWriter:
    """Context manager: feed batches, get a :class:`NormalizeResult` in ``.result`` after a clean exit."""

    def __init__(
        self,
        product: Product,
        out_path: Path,
        *,
        direction: str | None = None,
        on_batch: Callable[[pa.RecordBatch], None] | None = None,
    ) -> None:
        """``on_batch`` receives every typed batch right after it is written (a loader streaming the rows
        into PostgreSQL while the file is being written: warehouse/load.py, load_while_normalizing)."""
        self.product = product
        self._on_batch = on_batch
        self.direction = direction
        self.out_path = Path(out_path)
        self.quarantine_target = quarantine_path_for(self.out_path)
        self.schema = parquet_schema(product)
        self.result: NormalizeResult | None = None
        self._started = time.perf_counter()
        token = uuid.uuid4().hex[:12]
        self._tmp = self.out_path.with_name(f".{self.out_path.name}.{token}.tmp")
        self._qtmp = self.quarantine_target.with_name(f".{self.quarantine_target.name}.{token}.tmp")
        self._writer: pq.ParquetWriter | None = None
        self._entered = False
        self._quarantine: IO[str] | None = None
        self._rows_ok = 0
        self._rows_quarantined = 0
        self._unknown: dict[str, None] = {}  # ordered sets
        self._header_known: set[str] | None = None  # known columns of every CSV header so far
        self._record_keys: set[str] | None = None  # known keys seen in any JSON record
        self._source: str = str(out_path.name)  # last source named, for error messages
        self._absent: tuple[str, ...] = ()
        self._missing: tuple[str, ...] = ()
        self._min: datetime | None = None
        self._max: datetime | None = None
        self._id_name = product.record_id_column.name
        self._event_name = product.event_time_column.name

    # -- lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> NormalizedWriter:
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        self._entered = True
        return self

    def _open_writer(self, first: pa.RecordBatch | None) -> pq.ParquetWriter:
        """The Parquet writer, opened on the first batch: dictionary encoding only for the columns that
        batch shows repetitive (status, country, currency...). Trying it on record ids, numbers and times
        cost a fifth of the normalizer's time and memory for no smaller file (docs/performance.md)."""
        dictionary: bool | list[str] = True
        if first is not None and first.num_rows >= DICTIONARY_SAMPLE_MIN_ROWS:
            dictionary = [
                name
                for name, column in zip(first.schema.names, first.columns, strict=True)
                if pc.count_distinct(column).as_py() <= first.num_rows * DICTIONARY_MAX_DISTINCT_SHARE
            ]
        self._writer = pq.ParquetWriter(
            self._tmp, self.schema, compression=PARQUET_COMPRESSION, use_dictionary=dictionary
        )
        return self._writer

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            try:
                if exc_type is None:
                    self._settle_columns()  # may refuse the source (a required column is absent)
                    if self._writer is None:
                        self._open_writer(None)  # no rows: a valid file with the schema
                    if self._writer is not None:
                        names = [self.product.column(c).name for c in self._absent]
                        self._writer.add_key_value_metadata({ABSENT_COLUMNS_KEY: json.dumps(names)})
            finally:
                if self._writer is not None:
                    self._writer.close()
                if self._quarantine is not None:
                    self._quarantine.close()
            if exc_type is None:
                self._commit()
        finally:
            for tmp in (self._tmp, self._qtmp):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()

    def _commit(self) -> None:
        if self._rows_quarantined:
            self._qtmp.replace(self.quarantine_target)
        else:  # a re-run that quarantines nothing must not leave the previous run's quarantine behind
            with contextlib.suppress(FileNotFoundError):
                self.quarantine_target.unlink()
        self._tmp.replace(self.out_path)
        rows_ok, rows_q = self._rows_ok, self._rows_quarantined
        self.result = NormalizeResult(
            parquet_path=self.out_path,
            quarantine_path=self.quarantine_target if rows_q else None,
            rows_read=rows_ok + rows_q,
            rows_ok=rows_ok,
            rows_quarantined=rows_q,
            unknown_columns=tuple(self._unknown),
            missing_columns=self._missing,
            seconds=time.perf_counter() - self._started,
            event_time_min=self._min,
            event_time_max=self._max,
            absent_columns=self._absent,
        )

    # -- column bookkeeping --------------------------------------------------------------------------
    def note_header(self, names: Iterable[str], *, source: str) -> None:
        """A CSV header: record unknown columns; refuse it at once when a required column is absent.

        With several headers (one per ZIP member) a column counts as carried only if every header has it.
        """
        names = list(names)
        self._source = source
        known = set(self.product.source_names)
        for name in names:
            if name not in known:
                self._unknown.setdefault(name)
        present = known.intersection(names)
        missing = [c for c in self.product.required_sources if c not in present]
        if missing:
            raise MissingRequiredColumns(source, self.product.name, missing)
        self._header_known = present if self._header_known is None else self._header_known & present

    def note_record_keys(self, keys: Iterable[str], *, source: str) -> None:
        """JSON records: known keys seen in at least one record count as carried; others become extras."""
        self._source = source
        known = set(self.product.source_names)
        seen = self._record_keys if self._record_keys is not None else set()
        for key in keys:
            if key in known:
                seen.add(key)
            else:
                self._unknown.setdefault(key)
        self._record_keys = seen

    def _settle_columns(self) -> None:
        """Decide which known columns the source carried; a JSON window lacking a required key is refused."""
        if self._header_known is not None:
            present = self._header_known
        elif self._record_keys is not None:
            present = self._record_keys
            missing = [c for c in self.product.required_sources if c not in present]
            if missing and self._rows_ok + self._rows_quarantined:
                raise MissingRequiredColumns(self._source, self.product.name, missing)
        else:  # no header and no record: nothing was read, so nothing is known to be absent
            self._absent = ()
            self._missing = ()
            return
        self._absent = tuple(c for c in self.product.source_names if c not in present)
        self._missing = tuple(c for c in self.product.expected_sources(self.direction) if c not in present)

    # -- rows ----------------------------------------------------------------------------------------
    def quarantine(
        self,
        *,
        source: str,
        line_number: int | None,
        reason: str,
        raw_line: str,
        raw_bytes: bytes | None = None,
    ) -> None:
        """Set a row aside with its reason. ``raw_bytes``: the exact bytes when ``raw_line`` cannot hold them
        (invalid UTF-8); a ``raw_line`` holding NUL (which PostgreSQL text cannot store) keeps them too."""
        if self._quarantine is None:
            self._quarantine = self._qtmp.open("w", encoding="utf-8", newline="\n")
        if raw_bytes is None and "\x00" in raw_line:
            raw_bytes = raw_line.encode("utf-8", "surrogatepass")
        record: dict[str, object] = {
            "source": source,
            "line_number": line_number,
            "reason": reason,
            "raw_line": raw_line,
        }
        if raw_bytes is not None:
            record["raw_bytes_b64"] = base64.b64encode(raw_bytes).decode("ascii")
        self._quarantine.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._rows_quarantined += 1

    def write_batch(
        self,
        columns: Mapping[str, pa.Array],
        extras: list[str] | None,
        num_rows: int,
        *,
        source: str,
        raw_line: Callable[[int], str],
        line_number: Callable[[int], int | None],
    ) -> None:
        """Convert and write one batch of string columns keyed by wire name (absent known columns: NULL).

        ``extras`` holds one JSON object text per row (None: no unknown columns, ``'{}'`` for every row).
        ``raw_line``/``line_number`` are asked only for rows that end up in quarantine.
        """
        if num_rows == 0:
            return
        problems: dict[int, list[str]] = {}
        typed: list[pa.Array] = []
        for column in self.product.columns:
            values = columns.get(column.source)
            if values is None:
                typed.append(pa.nulls(num_rows, arrow_type(column.type)))
                continue
            converted, errors = convert_column(empty_to_null(values), column)
            for index, reason in errors.items():
                problems.setdefault(index, []).append(reason)
            typed.append(converted)
        by_name = dict(zip(self.product.column_names, typed, strict=True))
        for name, what in ((self._id_name, "record id"), (self._event_name, "event time")):
            nulls = pc.is_null(by_name[name])
            if pc.any(nulls).as_py():
                source_name = self.product.record_id if name == self._id_name else self.product.event_time
                for index in pc.indices_nonzero(nulls).to_pylist():
                    reasons = problems.setdefault(index, [])
                    if not any(r.startswith(f"{source_name}: ") for r in reasons):  # not already unparseable
                        reasons.append(f"{source_name}: missing {what}")
        event_time = by_name[self._event_name]
        extras_array = pa.array(extras, pa.string()) if extras else pa.array(["{}"] * num_rows, pa.string())
        arrays = [*typed, event_time, extras_array]
        if problems:
            for index in sorted(problems):
                self.quarantine(
                    source=source,
                    line_number=line_number(index),
                    reason="; ".join(problems[index]),
                    raw_line=raw_line(index),
                )
            keep = [True] * num_rows
            for index in problems:
                keep[index] = False
            mask = pa.array(keep, pa.bool_())
            arrays = [pc.filter(a, mask) for a in arrays]
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        if batch.num_rows == 0:
            return
        assert self._entered, "write_batch outside the with block"
        (self._writer or self._open_writer(batch)).write_batch(batch)
        if self._on_batch is not None:
            self._on_batch(batch)
        self._rows_ok += batch.num_rows
        bounds = pc.min_max(batch.column(EVENT_TIME))
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        self._min = low if self._min is None else min(self._min, low)
        self._max = high if self._max is None else max(self._max, high)

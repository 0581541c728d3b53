"""The sink every source (CSV in a ZIP, sync JSON records) feeds: typed Parquet plus a quarantine file.

Why one sink: the daily (CSV) and incremental (JSON) paths must type, validate and account for rows in
exactly the same way, or the same CDR would land differently depending on how it was fetched. A source
hands over batches of *string* columns keyed by wire name; the sink converts them with the registry, moves
unparseable rows to the quarantine file with their reason and raw text, and writes the rest as one Parquet
row group per batch. Both files are written to temporary names and moved into place only on success
(see :mod:`include.vonage_cdr.lake`), so a failed run never leaves a half file where a good one was.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from include.vonage_cdr.lake import quarantine_path_for
from include.vonage_cdr.normalize.convert import convert_column, empty_to_null
from include.vonage_cdr.normalize.schema import EVENT_TIME, arrow_type, parquet_schema
from include.vonage_cdr.products import Product
from include.vonage_cdr.storage import AtomicOutput, LakePath, Location

__all__ = ["BATCH_ROWS", "NormalizeResult", "NormalizedWriter", "extras_json"]

#: rows per Parquet row group / conversion batch: bounds memory whatever the report's size.
BATCH_ROWS = 32_768
PARQUET_COMPRESSION = "zstd"


@dataclass(frozen=True)
class NormalizeResult:
    """What one normalization produced; ``rows_read == rows_ok + rows_quarantined`` always holds."""

    parquet_path: Location  # a local Path or a LakePath (object store), as the caller gave it
    quarantine_path: Location | None  # JSONL, one object per quarantined row; None when none was quarantined
    rows_read: int
    rows_ok: int
    rows_quarantined: int
    unknown_columns: tuple[str, ...]  # wire names kept in ``extras``
    missing_columns: tuple[str, ...]  # known wire names absent from the source (loaded as NULL)
    seconds: float
    event_time_min: datetime | None = None  # range of the good rows' event_time (partitions to create)
    event_time_max: datetime | None = None


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

    def __init__(self, product: Product, out_path: Location) -> None:
        self.product = product
        self.out_path: Location = out_path if isinstance(out_path, LakePath) else Path(out_path)
        self.quarantine_target = quarantine_path_for(self.out_path)
        self.schema = parquet_schema(product)
        self.result: NormalizeResult | None = None
        self._started = time.perf_counter()
        # Both files are written under hidden temporary names and published whole (storage.AtomicOutput).
        self._out = AtomicOutput(self.out_path)
        self._qout = AtomicOutput(self.quarantine_target)
        self._writer: pq.ParquetWriter | None = None
        self._quarantine: io.TextIOWrapper | None = None
        self._rows_ok = 0
        self._rows_quarantined = 0
        self._unknown: dict[str, None] = {}  # ordered sets
        self._missing: dict[str, None] = {}
        self._seen_known: set[str] = set()
        self._min: datetime | None = None
        self._max: datetime | None = None
        self._id_name = product.record_id_column.name
        self._event_name = product.event_time_column.name

    # -- lifecycle -----------------------------------------------------------------------------------
    def __enter__(self) -> NormalizedWriter:
        self._writer = pq.ParquetWriter(self._out.open(), self.schema, compression=PARQUET_COMPRESSION)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            if self._quarantine is not None:
                self._quarantine.close()
            if exc_type is None:
                self._commit()
        finally:
            self._out.abort()  # no-op once committed: deletes a temporary file a failure left
            self._qout.abort()

    def _commit(self) -> None:
        if self._rows_quarantined:
            self._qout.commit()
        else:  # a re-run that quarantines nothing must not leave the previous run's quarantine behind
            self._qout.target.unlink(missing_ok=True)
        self._out.commit()
        rows_ok, rows_q = self._rows_ok, self._rows_quarantined
        self.result = NormalizeResult(
            parquet_path=self.out_path,
            quarantine_path=self.quarantine_target if rows_q else None,
            rows_read=rows_ok + rows_q,
            rows_ok=rows_ok,
            rows_quarantined=rows_q,
            unknown_columns=tuple(self._unknown),
            missing_columns=tuple(c for c in self._missing if c not in self._seen_known),
            seconds=time.perf_counter() - self._started,
            event_time_min=self._min,
            event_time_max=self._max,
        )

    # -- column bookkeeping --------------------------------------------------------------------------
    def note_columns(self, present: Iterable[str]) -> None:
        """Record which wire columns a source (a CSV header) carried: unknown ones and missing known ones."""
        present = list(present)
        known = set(self.product.source_names)
        for name in present:
            if name not in known:
                self._unknown.setdefault(name)
        present_set = set(present)
        for name in self.product.source_names:
            if name not in present_set:
                self._missing.setdefault(name)

    def note_known_seen(self, names: Iterable[str]) -> None:
        """For sources without a header (JSON): a known column seen once is not missing."""
        self._seen_known.update(names)

    # -- rows ----------------------------------------------------------------------------------------
    def quarantine(self, *, source: str, line_number: int | None, reason: str, raw_line: str) -> None:
        if self._quarantine is None:
            self._quarantine = io.TextIOWrapper(self._qout.open(), encoding="utf-8", newline="\n")
        record = {"source": source, "line_number": line_number, "reason": reason, "raw_line": raw_line}
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
        assert self._writer is not None, "write_batch outside the with block"
        self._writer.write_batch(batch)
        self._rows_ok += batch.num_rows
        bounds = pc.min_max(batch.column(EVENT_TIME))
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        self._min = low if self._min is None else min(self._min, low)
        self._max = high if self._max is None else max(self._max, high)

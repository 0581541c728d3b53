"""CSV reports (async, from the ZIP) into the normalized sink, streamed in bounded batches.

Why pyarrow's streaming CSV reader: it parses quoted fields with embedded commas, quotes and newlines in
C++ at several hundred thousand rows per second, reading the ZIP member block by block (never the whole
file). Every column is read as a string so that nothing is guessed: typing is the registry's job
(:mod:`.convert`). Rows with the wrong number of fields come back from the reader's invalid-row hook with
their exact raw text. For a row that parses as CSV but fails typing, the raw line is rebuilt with every
field double-quoted, which is byte for byte what Vonage sends (contract §6: every field quoted).

Line numbers: ``line_number`` is the record's number in the file counting the header as line 1. It equals
the physical line whenever no earlier value contains a newline (the normal case).
"""

from __future__ import annotations

import bisect
import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv

from include.vonage_cdr.client.archive import open_csv_members
from include.vonage_cdr.normalize.core import BATCH_ROWS, NormalizedWriter, NormalizeResult, extras_json
from include.vonage_cdr.products import Product

__all__ = ["normalize_csv_stream", "normalize_zip"]

# CSV text parsed per step. Small on purpose: the reader reads several blocks ahead, and with 8 MiB blocks
# that read-ahead alone held hundreds of MiB; 1 MiB blocks keep peak memory flat (about 60 MiB measured).
# Blocks are gathered into batches of about BATCH_ROWS rows before typing and writing a row group.
BLOCK_BYTES = 1024 * 1024


def _read_header(stream: BinaryIO) -> list[str] | None:
    """Read the header record (quoted names may even hold newlines) and leave the stream after it."""
    raw = stream.readline()
    if not raw:
        return None
    while raw.count(b'"') % 2 == 1:
        more = stream.readline()
        if not more:
            break
        raw += more
    text = raw.decode("utf-8-sig")
    names = next(csv.reader(io.StringIO(text, newline="")), [])
    return _dedupe(names)


def _dedupe(names: list[str]) -> list[str]:
    """A repeated header name keeps its first occurrence; later ones become ``name#2``... (kept in extras)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0) + 1
        seen[name] = count
        out.append(name if count == 1 else f"{name}#{count}")
    return out


def _quote_all(values: list[str | None]) -> str:
    return ",".join('"' + (v or "").replace('"', '""') + '"' for v in values)


class _RecordNumbers:
    """Assigns record numbers to good rows, skipping the numbers of rows the reader rejected.

    The reader reports each rejected row's record number; good rows take the remaining numbers in order.
    Only the rejected rows are looped over, never every good row.
    """

    def __init__(self) -> None:
        self.last = 0  # number of the last record accounted for
        self.rejected: list[int] = []  # pending rejected numbers, ascending
        self.reliable = True

    def reject(self, number: int | None) -> None:
        if number is None:
            self.reliable = False
        else:
            bisect.insort(self.rejected, number)

    def take(self, count: int) -> Callable[[int], int | None]:
        """Consume ``count`` good records; return index-in-batch -> record number."""
        starts: list[int] = []  # batch index where a contiguous run begins
        firsts: list[int] = []  # record number of that run's first row
        index, number = 0, self.last + 1
        while index < count:
            while self.rejected and self.rejected[0] < number:
                self.rejected.pop(0)
            if self.rejected and self.rejected[0] == number:
                self.rejected.pop(0)
                number += 1
                continue
            run = count - index
            if self.rejected:
                run = min(run, self.rejected[0] - number)
            starts.append(index)
            firsts.append(number)
            index += run
            number += run
        self.last = number - 1
        reliable = self.reliable

        def lookup(i: int) -> int | None:
            if not reliable:
                return None
            run = bisect.bisect_right(starts, i) - 1
            return firsts[run] + (i - starts[run])

        return lookup


def _feed_csv(writer: NormalizedWriter, stream: BinaryIO, source: str) -> None:
    names = _read_header(stream)
    if names is None:
        return  # an empty member: no header, no rows
    writer.note_header(names, source=source)
    known = set(writer.product.source_names)
    unknown = [n for n in names if n not in known]
    numbers = _RecordNumbers()
    rejected: list[tuple[int | None, str, int, int]] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        rejected.append((row.number, row.text, row.expected_columns, row.actual_columns))
        numbers.reject(row.number)
        return "skip"

    def flush_rejected() -> None:
        for number, text, expected, actual in rejected:
            writer.quarantine(
                source=source,
                line_number=None if number is None else number + 1,
                reason=f"wrong number of fields: expected {expected}, got {actual}",
                raw_line=text,
            )
        rejected.clear()

    try:
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
            ),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):
            return  # a header and no records: an empty report is a valid report
        raise
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    for block in reader:
        pending.append(block)
        pending_rows += block.num_rows
        if pending_rows >= BATCH_ROWS:
            _write_csv_batch(writer, pa.concat_batches(pending), names, unknown, numbers, source)
            pending, pending_rows = [], 0
            flush_rejected()
    if pending:
        _write_csv_batch(writer, pa.concat_batches(pending), names, unknown, numbers, source)
    flush_rejected()


def _write_csv_batch(
    writer: NormalizedWriter,
    batch: pa.RecordBatch,
    names: list[str],
    unknown: list[str],
    numbers: _RecordNumbers,
    source: str,
) -> None:
    columns = {name: batch.column(i) for i, name in enumerate(names)}
    extras = None
    if unknown:
        values = [[v or None for v in columns[n].to_pylist()] for n in unknown]
        extras = extras_json(unknown, values)
    record_number = numbers.take(batch.num_rows)

    def raw_line(i: int) -> str:
        return _quote_all([batch.column(c)[i].as_py() for c in range(batch.num_columns)])

    def line_number(i: int) -> int | None:
        number = record_number(i)
        return None if number is None else number + 1  # the header is line 1

    writer.write_batch(
        {n: a for n, a in columns.items() if n not in unknown},
        extras,
        batch.num_rows,
        source=source,
        raw_line=raw_line,
        line_number=line_number,
    )


def normalize_csv_stream(
    stream: BinaryIO, product: Product, out_path: Path, *, source_name: str, direction: str | None = None
) -> NormalizeResult:
    """Normalize one CSV byte stream (e.g. an open ZIP member) into ``out_path`` (written atomically)."""
    with NormalizedWriter(product, out_path, direction=direction) as writer:
        _feed_csv(writer, stream, source_name)
    assert writer.result is not None
    return writer.result


def normalize_zip(
    zip_path: Path, product: Product, out_path: Path, *, direction: str | None = None
) -> NormalizeResult:
    """Normalize every CSV member of a report ZIP into one Parquet file, streaming each member.

    Members are opened through the client's guarded reader (path-traversal, size and CRC checks); the
    quarantine rows name their member as ``<zip name>/<member>``.
    """
    zip_path = Path(zip_path)
    with (
        NormalizedWriter(product, out_path, direction=direction) as writer,
        open_csv_members(zip_path) as members,
    ):
        for member_name, stream in members:
            _feed_csv(writer, stream, f"{zip_path.name}/{member_name}")
    assert writer.result is not None
    return writer.result

"""CSV reports (async, from the ZIP) into the normalized sink, streamed in bounded batches.

Why pyarrow's streaming CSV reader: it parses quoted fields with embedded commas, quotes and newlines in
C++ at several hundred thousand rows per second, reading the ZIP member block by block (never the whole
file). Every column is read as a string so that nothing is guessed: typing is the registry's job
(:mod:`.convert`). Rows with the wrong number of fields come back from the reader's invalid-row hook with
their exact raw text. For a row that parses as CSV but fails typing, the raw line is rebuilt with every
field double-quoted, which is byte for byte what Vonage sends (docs/vonage-reports-api.md, CSV file format).

Line numbers: ``line_number`` is the record's number in the file counting the header as line 1. It equals
the physical line whenever no earlier value contains a newline (the normal case).

Hostile files (see :mod:`.limits` and :mod:`.utf8`): each member is first streamed to a temporary file
beside the output, in 1 MiB chunks: bytes that are not UTF-8 are escaped on the way (each record holding
one is later quarantined with its exact bytes while the rest loads), and a line longer than
``max_record_bytes`` stops the copy at once (:class:`RecordTooLong`, naming the file, the member and the
limit), so a gigabyte without a newline is refused after reading one limit's worth of it. The CSV reader
then reads that file natively, in blocks of at least the record limit: a longer record (one spread over
many short lines) is refused the same way. Reading a local file natively also keeps the reader's
read-ahead thread out of Python, so a refused file leaves no thread reading behind. Whatever the reader
rejects is reported as :class:`MalformedFile` naming the file, never as a bare reader error.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import io
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from include.vonage_cdr.client.archive import open_csv_members
from include.vonage_cdr.normalize.core import BATCH_ROWS, NormalizedWriter, NormalizeResult, extras_json
from include.vonage_cdr.normalize.errors import MalformedFile, RecordTooLong
from include.vonage_cdr.normalize.limits import DEFAULT_LIMITS, ReadLimits
from include.vonage_cdr.normalize.utf8 import MARK, Utf8Escaper, has_escaped_bytes, unescape, unescape_text
from include.vonage_cdr.products import Product

__all__ = ["normalize_csv_stream", "normalize_zip"]

# CSV text parsed per step. Small on purpose: the reader reads several blocks ahead, and with 8 MiB blocks
# that read-ahead alone held hundreds of MiB; 1 MiB blocks keep peak memory flat (about 60 MiB measured).
# Blocks are gathered into batches of about BATCH_ROWS rows before typing and writing a row group. A record
# must fit in one block, so the block is max(BLOCK_BYTES, max_record_bytes).
BLOCK_BYTES = 1024 * 1024
_STRADDLE = "straddling object straddles two block boundaries"
SPOOL_CHUNK_BYTES = 1024 * 1024


def _spool(stream: BinaryIO, target: Path, source: str, limit: int) -> bool:
    """Copy ``stream`` to ``target`` with invalid UTF-8 escaped; refuse a line longer than ``limit``.

    Returns whether anything was escaped. Memory: one chunk. Chunks are at most ``limit`` bytes, so only the
    line running across chunk boundaries needs counting (two C-level searches per chunk).
    """
    escaper = Utf8Escaper(stream)
    size = min(SPOOL_CHUNK_BYTES, limit)
    line_number, run = 1, 0  # the current physical line (the header is line 1) and its bytes so far
    with target.open("wb") as out:
        while chunk := escaper.read(size):
            first = chunk.find(b"\n")
            if (run + len(chunk) if first < 0 else run + first) > limit:
                raise RecordTooLong(
                    f"{source}: line {line_number} is longer than the limit of {limit} bytes "
                    "(max_record_bytes); the file is damaged or a decompression bomb"
                )
            if first < 0:
                run += len(chunk)
            else:
                line_number += chunk.count(b"\n")
                run = len(chunk) - chunk.rfind(b"\n") - 1
            out.write(chunk)
    return escaper.escaped


def _readable(raw: bytes) -> str:
    """Bytes as text for raw_line: valid UTF-8 as is, other bytes as \\xNN escapes."""
    return raw.decode("utf-8", "backslashreplace")


def _read_header(stream: BinaryIO, source: str, limit: int) -> list[str] | None:
    """Read the header record (quoted names may even hold newlines) and leave the stream after it.

    At most ``limit`` bytes are read: a longer header (a file without newlines) is refused, never read whole.
    """
    raw = b""
    while True:
        more = stream.readline(limit + 1 - len(raw))
        raw += more
        if len(raw) > limit:
            raise RecordTooLong(
                f"{source}: the header is longer than the limit of {limit} bytes (max_record_bytes); "
                "the file is damaged or a decompression bomb"
            )
        if not more or (raw.endswith(b"\n") and raw.count(b'"') % 2 == 0):
            break
    if not raw:
        return None
    text = raw.decode("utf-8")  # the stream is escaped: always valid UTF-8
    if has_escaped_bytes(text):
        raise MalformedFile(f"{source}: the header is not valid UTF-8: {_readable(unescape(raw))[:200]!r}")
    text = unescape_text(text).removeprefix("\ufeff")
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


def _feed_csv(writer: NormalizedWriter, raw_stream: BinaryIO, source: str, limits: ReadLimits) -> None:
    spool = writer.out_path.with_name(f".{writer.out_path.name}.{uuid.uuid4().hex[:12]}.csv.tmp")
    try:
        escaped = _spool(raw_stream, spool, source, limits.max_record_bytes)
        with spool.open("rb") as fh:
            names = _read_header(fh, source, limits.max_record_bytes)
            offset = fh.tell()
        if names is None:
            return  # an empty member: no header, no rows
        with pa.OSFile(str(spool)) as native:
            native.seek(offset)
            _read_records(writer, native, names, source, limits, escaped)
    finally:
        with contextlib.suppress(FileNotFoundError):
            spool.unlink()


def _read_records(
    writer: NormalizedWriter,
    native: pa.NativeFile,
    names: list[str],
    source: str,
    limits: ReadLimits,
    escaped: bool,
) -> None:
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
            reason = f"wrong number of fields: expected {expected}, got {actual}"
            raw_bytes = None
            if escaped and MARK in text:
                original = unescape(text.encode("utf-8"))
                if has_escaped_bytes(text):
                    reason += "; not valid UTF-8"
                    raw_bytes = original
                text = _readable(original)
            writer.quarantine(
                source=source,
                line_number=None if number is None else number + 1,
                reason=reason,
                raw_line=text,
                raw_bytes=raw_bytes,
            )
        rejected.clear()

    block = max(BLOCK_BYTES, limits.max_record_bytes)
    reader: pacsv.CSVStreamingReader | None = None
    try:
        try:
            reader = pacsv.open_csv(
                native,
                read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=block),
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
        for chunk in reader:
            pending.append(chunk)
            pending_rows += chunk.num_rows
            if pending_rows >= BATCH_ROWS:
                _write_csv_batch(writer, pa.concat_batches(pending), names, unknown, numbers, source, escaped)
                pending, pending_rows = [], 0
                flush_rejected()
        if pending:
            _write_csv_batch(writer, pa.concat_batches(pending), names, unknown, numbers, source, escaped)
        flush_rejected()
    except pa.ArrowInvalid as exc:
        if _STRADDLE in str(exc):
            raise RecordTooLong(
                f"{source}: a record after line {numbers.last + 1} is longer than the limit of "
                f"{limits.max_record_bytes} bytes (max_record_bytes); the file is damaged or a "
                "decompression bomb"
            ) from None
        where = f"{source}: the CSV cannot be read after line {numbers.last + 1}"
        raise MalformedFile(f"{where}: {exc}") from None
    finally:
        if reader is not None:
            reader.close()


def _undecodable_rows(batch: pa.RecordBatch, names: list[str]) -> dict[int, list[str]]:
    """Rows holding escaped (not UTF-8) bytes -> the columns holding them; genuine U+FFFE is not counted."""
    found: dict[int, list[str]] = {}
    for i, name in enumerate(names):
        column = batch.column(i)
        hits = pc.fill_null(pc.match_substring(column, MARK), False)
        for index in pc.indices_nonzero(hits).to_pylist():
            if has_escaped_bytes(column[index].as_py()):
                found.setdefault(index, []).append(name)
    return found


def _genuine_marks_restored(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Un-escape genuine U+FFFE characters (``MARK--``) in a batch without undecodable bytes."""
    columns = [pc.replace_substring(c, MARK + "--", MARK) for c in batch.columns]
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def _write_csv_batch(
    writer: NormalizedWriter,
    batch: pa.RecordBatch,
    names: list[str],
    unknown: list[str],
    numbers: _RecordNumbers,
    source: str,
    escaped: bool,
) -> None:
    record_number = numbers.take(batch.num_rows)

    def line_number_of(i: int) -> int | None:
        number = record_number(i)
        return None if number is None else number + 1  # the header is line 1

    def quoted(b: pa.RecordBatch, i: int) -> str:
        return _quote_all([b.column(c)[i].as_py() for c in range(b.num_columns)])

    kept = list(range(batch.num_rows))
    if escaped:
        undecodable = _undecodable_rows(batch, names)
        for index in sorted(undecodable):
            raw_bytes = unescape(quoted(batch, index).encode("utf-8"))
            line = line_number_of(index)
            writer.quarantine(
                source=source,
                line_number=line,
                reason=(
                    f"{source} line {line if line is not None else '?'}: not valid UTF-8 "
                    f"(in {', '.join(undecodable[index])})"
                ),
                raw_line=_readable(raw_bytes),
                raw_bytes=raw_bytes,
            )
        if undecodable:
            kept = [i for i in kept if i not in undecodable]
            batch = batch.take(pa.array(kept, pa.int64()))
        batch = _genuine_marks_restored(batch)

    columns = {name: batch.column(i) for i, name in enumerate(names)}
    extras = None
    if unknown:
        values = [[v or None for v in columns[n].to_pylist()] for n in unknown]
        extras = extras_json(unknown, values)

    writer.write_batch(
        {n: a for n, a in columns.items() if n not in unknown},
        extras,
        batch.num_rows,
        source=source,
        raw_line=lambda i: quoted(batch, i),
        line_number=lambda i: line_number_of(kept[i]),
    )


def normalize_csv_stream(
    stream: BinaryIO,
    product: Product,
    out_path: Path,
    *,
    source_name: str,
    direction: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    on_batch: Callable[[pa.RecordBatch], None] | None = None,
) -> NormalizeResult:
    """Normalize one CSV byte stream (e.g. an open ZIP member) into ``out_path`` (written atomically)."""
    with NormalizedWriter(product, out_path, direction=direction, on_batch=on_batch) as writer:
        _feed_csv(writer, stream, source_name, limits)
    assert writer.result is not None
    return writer.result


def normalize_zip(
    zip_path: Path,
    product: Product,
    out_path: Path,
    *,
    direction: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
    on_batch: Callable[[pa.RecordBatch], None] | None = None,
) -> NormalizeResult:
    """Normalize every CSV member of a report ZIP into one Parquet file, streaming each member.

    Members are opened through the client's guarded reader (path-traversal, decompressed size, compression
    ratio and CRC checks, with ``limits``); the quarantine rows name their member as ``<zip name>/<member>``.
    ``on_batch`` receives each typed batch as it is written (see :class:`NormalizedWriter`).
    """
    zip_path = Path(zip_path)
    with (
        NormalizedWriter(product, out_path, direction=direction, on_batch=on_batch) as writer,
        open_csv_members(
            zip_path,
            max_uncompressed_bytes=limits.max_decompressed_bytes,
            max_compression_ratio=limits.max_compression_ratio,
        ) as members,
    ):
        for member_name, stream in members:
            _feed_csv(writer, stream, f"{zip_path.name}/{member_name}", limits)
    assert writer.result is not None
    return writer.result

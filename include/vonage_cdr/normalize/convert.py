"""Vectorised conversion of one string column to its registry type, finding the values that do not parse.

Why this shape: a report holds millions of rows, so every column is converted with one Arrow cast per batch
(C++, no Python per value). Only when a cast fails does the batch fall back to checking that column value by
value, to name the exact rows and values that are wrong; those rows are quarantined and the rest of the
batch still loads. Bad data is rare, so the slow path costs nothing on clean files.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from include.vonage_cdr.normalize.schema import arrow_type
from include.vonage_cdr.products import Column

__all__ = ["convert_column", "empty_to_null"]

_NULL_STRING = pa.scalar(None, pa.string())
_MAX_VALUE_IN_REASON = 120

# Vonage sends "+0000", "+00:00", "-0000" or "Z", with or without fractional seconds. Arrow's ISO-8601 cast
# accepts all of them, but only up to the target unit (microseconds) and only with an offset.
_TS_TOO_PRECISE = r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}\.\d{6})\d+"
# Every response timestamp is UTC (docs/vonage-reports-api.md, Timestamps); a value without offset is UTC.
_TS_NAIVE = r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?)$"


def empty_to_null(values: pa.Array) -> pa.Array:
    """``""`` means "no value" on the wire (CSV and JSON alike): make it a real null."""
    if values.null_count == len(values):
        return values
    return pc.if_else(pc.equal(values, ""), _NULL_STRING, values)


def _prepare(values: pa.Array, column: Column) -> pa.Array:
    if column.type == "timestamptz":
        values = pc.replace_substring_regex(values, _TS_TOO_PRECISE, r"\1")
        return pc.replace_substring_regex(values, _TS_NAIVE, r"\1Z")
    if column.type == "boolean":
        return pc.utf8_lower(values)
    return values


def _describe(value: str) -> str:
    if len(value) > _MAX_VALUE_IN_REASON:
        return repr(value[:_MAX_VALUE_IN_REASON]) + "..."
    return repr(value)


def _nul_errors(values: pa.Array, column: Column) -> dict[int, str]:
    """PostgreSQL text cannot hold NUL: such a row would fail the whole COPY, so it is quarantined instead."""
    data = values.buffers()[2]
    if data is None or b"\x00" not in data.to_pybytes():  # memchr, no kernel on clean data
        return {}
    hits = pc.fill_null(pc.match_substring(values, "\x00"), False)
    return {
        int(i): f"{column.source}: contains a NUL character" for i in pc.indices_nonzero(hits).to_pylist()
    }


def convert_column(values: pa.Array, column: Column) -> tuple[pa.Array, dict[int, str]]:
    """Convert a string array (nulls allowed) to the column's Arrow type.

    Returns the converted array (null where a value did not parse) and ``{row index: reason}`` for every
    value that did not parse; the reason names the column, the bad value and the expected type.
    """
    target = arrow_type(column.type)
    if column.type == "text":
        return values, _nul_errors(values, column)
    if column.type == "timestamptz":
        # Nearly every value is ISO 8601 with an offset and at most microseconds, which the cast takes as it
        # is; the regex rewrites of _prepare (a third of normalizing's time) only matter when it fails.
        try:
            return pc.cast(values, target), {}
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    prepared = _prepare(values, column)
    if column.type == "boolean":
        # Arrow would also take "1"/"0"; the API sends TRUE/FALSE (any case), so accept exactly those.
        known = pc.is_in(prepared, value_set=pa.array(["true", "false"]))
        if pc.all(pc.or_kleene(known, pc.is_null(prepared))).as_py():
            return pc.equal(prepared, "true"), {}
    else:
        try:
            return pc.cast(prepared, target), {}
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    return _convert_value_by_value(values, prepared, column, target)


def _convert_value_by_value(
    original: pa.Array, prepared: pa.Array, column: Column, target: pa.DataType
) -> tuple[pa.Array, dict[int, str]]:
    errors: dict[int, str] = {}
    out: list[object] = []
    originals = original.to_pylist()
    for index, value in enumerate(prepared.to_pylist()):
        if value is None:
            out.append(None)
            continue
        try:
            if column.type == "boolean":
                if value not in ("true", "false"):
                    raise ValueError(value)
                out.append(value == "true")
            else:
                out.append(pc.cast(pa.array([value], pa.string()), target)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            errors[index] = f"{column.source}: cannot parse {_describe(originals[index])} as {column.type}"
            out.append(None)
    return pa.array(out, type=target), errors

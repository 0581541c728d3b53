"""Sync JSON records (``GET /v2/reports/records``) into the same normalized sink as the CSV reports.

Why the same sink: a CDR fetched by the incremental DAG must land exactly as the daily report would land
it, or each reload would flip rows between two spellings. So JSON values are first turned into the CSV's
string form (numbers as their decimal text, booleans as TRUE/FALSE, nested objects as JSON text, null and
``""`` as NULL) and then typed by the same registry conversion.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import pyarrow as pa

from include.vonage_cdr.normalize.core import BATCH_ROWS, NormalizedWriter, NormalizeResult
from include.vonage_cdr.products import Product
from include.vonage_cdr.storage import Location

__all__ = ["normalize_records", "wire_text"]


def wire_text(value: Any) -> str | None:
    """The CSV spelling of a JSON value."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return str(value)


def _raw(record: Mapping[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str)


def _write(
    writer: NormalizedWriter, records: list[Mapping[str, Any]], positions: list[int], source: str
) -> None:
    product = writer.product
    known_sources = product.source_names
    known = set(known_sources)
    columns: dict[str, list[str | None]] = {name: [] for name in known_sources}
    extras: list[str] = []
    seen: set[str] = set()
    unknown_names: list[str] = []
    for record in records:
        for name in known_sources:
            columns[name].append(wire_text(record.get(name)))
        unknown = {}
        for key, value in record.items():
            if key in known:
                seen.add(key)
            else:
                text = wire_text(value)
                unknown[key] = text if text != "" else None
        unknown_names.extend(k for k in unknown if k not in unknown_names)
        extras.append(json.dumps(unknown, ensure_ascii=False, separators=(",", ":")) if unknown else "{}")
    writer.note_known_seen(seen)
    writer.note_columns([*seen, *unknown_names])
    writer.write_batch(
        {name: pa.array(values, pa.string()) for name, values in columns.items()},
        extras,
        len(records),
        source=source,
        raw_line=lambda i: _raw(records[i]),
        line_number=lambda i: positions[i],
    )


def normalize_records(
    records: Iterable[Mapping[str, Any]], product: Product, out_path: Location, *, source_name: str
) -> NormalizeResult:
    """Normalize JSON records (dicts of strings/numbers/null) into ``out_path``, in bounded batches.

    A quarantined record's ``line_number`` is its 1-based position in ``records`` and its raw line is
    the record as JSON. ``missing_columns`` lists the known columns no record carried.
    """
    with NormalizedWriter(product, out_path) as writer:
        batch: list[Mapping[str, Any]] = []
        positions: list[int] = []
        for position, record in enumerate(records, start=1):
            if not isinstance(record, Mapping):
                writer.quarantine(
                    source=source_name,
                    line_number=position,
                    reason=f"record is a {type(record).__name__}, not an object",
                    raw_line=_raw(record),  # type: ignore[arg-type]
                )
                continue
            batch.append(record)
            positions.append(position)
            if len(batch) >= BATCH_ROWS:
                _write(writer, batch, positions, source_name)
                batch, positions = [], []
        if batch:
            _write(writer, batch, positions, source_name)
    assert writer.result is not None
    return writer.result

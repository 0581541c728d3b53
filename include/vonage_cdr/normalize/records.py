"""Sync JSON records (``GET /v2/reports/records``) into the same normalized sink as the CSV reports.

Why the same sink: a CDR fetched by the incremental DAG must land exactly as the daily report would land
it, or each reload would flip rows between two spellings. So JSON values are first turned into the CSV's
string form (numbers as their decimal text, booleans as TRUE/FALSE, nested objects as JSON text, null and
``""`` as NULL) and then typed by the same registry conversion.

Absent keys: a known key no record of the window carried is an absent column (unknown: the stored value is
kept, see :mod:`.core`). A record without a key that other records carry has NULL there (JSON omits empty
values), except for the keys identity and billing need (``Product.required_sources``): such a record is
quarantined rather than loaded with an unknown price or id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from include.vonage_cdr.normalize.core import BATCH_ROWS, NormalizedWriter, NormalizeResult
from include.vonage_cdr.products import Product

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
    required = product.required_sources
    columns: dict[str, list[str | None]] = {name: [] for name in known_sources}
    extras: list[str] = []
    kept: list[Mapping[str, Any]] = []
    kept_positions: list[int] = []
    for record, position in zip(records, positions, strict=True):
        writer.note_record_keys(record.keys(), source=source)
        lacking = [key for key in required if key not in record]
        if lacking:
            writer.quarantine(
                source=source,
                line_number=position,
                reason=f"record has no {', '.join(lacking)} field (needed for identity or billing)",
                raw_line=_raw(record),
            )
            continue
        kept.append(record)
        kept_positions.append(position)
        for name in known_sources:
            columns[name].append(wire_text(record.get(name)))
        unknown = {}
        for key, value in record.items():
            if key not in known:
                text = wire_text(value)
                unknown[key] = text if text != "" else None
        extras.append(json.dumps(unknown, ensure_ascii=False, separators=(",", ":")) if unknown else "{}")
    writer.write_batch(
        {name: pa.array(values, pa.string()) for name, values in columns.items()},
        extras,
        len(kept),
        source=source,
        raw_line=lambda i: _raw(kept[i]),
        line_number=lambda i: kept_positions[i],
    )


def normalize_records(
    records: Iterable[Mapping[str, Any]],
    product: Product,
    out_path: Path,
    *,
    source_name: str,
    direction: str | None = None,
) -> NormalizeResult:
    """Normalize JSON records (dicts of strings/numbers/null) into ``out_path``, in bounded batches.

    A quarantined record's ``line_number`` is its 1-based position in ``records`` and its raw line is
    the record as JSON. ``missing_columns`` lists the expected columns (for ``direction``) no record carried.
    """
    with NormalizedWriter(product, out_path, direction=direction) as writer:
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

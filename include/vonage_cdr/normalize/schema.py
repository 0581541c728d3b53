"""Arrow types of the normalized Parquet, derived from the product registry.

Why here and not in the registry: the registry speaks SQL-ish column types; only the normalizer and the
loader care how those land in Arrow/Parquet. Money is ``decimal128(38, 12)``: exact (never float), with room
for Vonage's 8-10 decimals and 26 integer digits. Timestamps are microseconds in UTC, PostgreSQL's own
resolution.
"""

from __future__ import annotations

import pyarrow as pa

from include.vonage_cdr.products import ColumnType, Product

__all__ = [
    "DECIMAL_SCALE",
    "DECIMAL_TYPE",
    "EVENT_TIME",
    "EXTRAS",
    "TIMESTAMP_TYPE",
    "arrow_type",
    "parquet_schema",
]

DECIMAL_SCALE = 12
DECIMAL_TYPE = pa.decimal128(38, DECIMAL_SCALE)
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")
EVENT_TIME = "event_time"
EXTRAS = "extras"

_ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "timestamptz": TIMESTAMP_TYPE,
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "numeric": DECIMAL_TYPE,
    "boolean": pa.bool_(),
}


def arrow_type(column_type: ColumnType) -> pa.DataType:
    return _ARROW_TYPES[column_type]


def parquet_schema(product: Product) -> pa.Schema:
    """Registry columns (database names, wire order), then ``event_time`` and ``extras``.

    ``event_time`` and ``extras`` are never null: a row without an event time is quarantined, and
    ``extras`` is ``'{}'`` when the row has no unknown columns.
    """
    fields = [pa.field(c.name, arrow_type(c.type)) for c in product.columns]
    fields.append(pa.field(EVENT_TIME, TIMESTAMP_TYPE, nullable=False))
    fields.append(pa.field(EXTRAS, pa.string(), nullable=False))
    return pa.schema(fields, metadata={b"product": product.name.encode(), b"table": product.table.encode()})

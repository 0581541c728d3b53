"""Normalization: a report's CSV or the sync API's JSON records into typed, validated Parquet.

Public API (see each module for why it works the way it does):

* :func:`normalize_csv_stream` / :func:`normalize_zip` - async report CSV, streamed out of the ZIP;
* :func:`normalize_records` - sync JSON records, same typing and quarantine rules;
* :class:`NormalizeResult` - counts, unknown/missing columns and the files written;
* :func:`parquet_schema` - the Arrow schema of a product's normalized file.
"""

from __future__ import annotations

from include.vonage_cdr.normalize.core import BATCH_ROWS, NormalizeResult
from include.vonage_cdr.normalize.csv_source import normalize_csv_stream, normalize_zip
from include.vonage_cdr.normalize.records import normalize_records, wire_text
from include.vonage_cdr.normalize.schema import DECIMAL_TYPE, TIMESTAMP_TYPE, parquet_schema

__all__ = [
    "BATCH_ROWS",
    "DECIMAL_TYPE",
    "TIMESTAMP_TYPE",
    "NormalizeResult",
    "normalize_csv_stream",
    "normalize_records",
    "normalize_zip",
    "parquet_schema",
    "wire_text",
]

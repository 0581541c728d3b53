"""Why a report file or a records window cannot be loaded as it stands.

Each error names the file (or sync window), the product and what is wrong, because the message is what an
operator reads in the task log. All of them fail the load before anything reaches the lake or the warehouse;
a retry downloads the file again. They derive from ``ValueError`` (the data is wrong, not the code).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "IncompleteFile",
    "MalformedFile",
    "MissingRequiredColumns",
    "NormalizeError",
    "RecordTooLong",
]


class NormalizeError(ValueError):
    """A source cannot be normalized; the message names the source."""


class MissingRequiredColumns(NormalizeError):
    """A file lacks a column its product needs for identity or billing (see ``Product.required_sources``)."""

    def __init__(self, source: str, product: str, missing: Sequence[str]) -> None:
        self.source = source
        self.product = product
        self.missing = tuple(missing)
        super().__init__(
            f"{source}: the {product} file has no column {', '.join(repr(m) for m in self.missing)}, "
            "which identity or billing needs (missing or renamed); refusing to load it rather than "
            "storing those values as unknown"
        )

    def __reduce__(self):  # type: ignore[no-untyped-def]  # keyword-free rebuild for pickling
        return (type(self), (self.source, self.product, self.missing))


class RecordTooLong(NormalizeError):
    """A header or record is longer than the configured limit (a damaged file or a decompression bomb)."""


class MalformedFile(NormalizeError):
    """The CSV cannot be parsed at all (the reader's own error, with the file named)."""


class IncompleteFile(NormalizeError):
    """The rows read differ from the number the report announced (``items_count``): a short or padded file."""

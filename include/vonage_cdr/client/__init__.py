"""Typed client of the Vonage Reports API (async reports, file downloads, sync records).

No Airflow imports here: the Airflow hook/trigger/operator in ``plugins/vonage_reports`` wrap this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from include.vonage_cdr.client.errors import (
    AuthenticationError,
    AuthorizationError,
    ConflictError,
    CorruptArchive,
    CursorExpired,
    DownloadError,
    DownloadInterrupted,
    DownloadTooLarge,
    NotFound,
    RateLimited,
    ReportDeadlineExceeded,
    ReportExpired,
    ReportFailed,
    ReportTruncated,
    ServerError,
    TransportError,
    UnexpectedContent,
    UnsafeArchive,
    ValidationError,
    VonageError,
)
from include.vonage_cdr.client.models import (
    DEFAULT_BASE_URL,
    REUSABLE_STATUSES,
    TERMINAL_STATUSES,
    ClientSettings,
    RecordsPage,
    Report,
    ReportRequest,
)

if TYPE_CHECKING:
    from include.vonage_cdr.client.client import EUR_PER_CDR, ReportsClient, raise_for_outcome

# The HTTP client pulls in requests; Airflow parses DAG files that import the operator every few
# seconds, so those names load on first use (PEP 562) and the errors/models above stay cheap.
_LAZY = {"EUR_PER_CDR", "ReportsClient", "raise_for_outcome"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from include.vonage_cdr.client import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_BASE_URL",
    "EUR_PER_CDR",
    "REUSABLE_STATUSES",
    "TERMINAL_STATUSES",
    "AuthenticationError",
    "AuthorizationError",
    "ClientSettings",
    "ConflictError",
    "CorruptArchive",
    "CursorExpired",
    "DownloadError",
    "DownloadInterrupted",
    "DownloadTooLarge",
    "NotFound",
    "RateLimited",
    "RecordsPage",
    "Report",
    "ReportDeadlineExceeded",
    "ReportExpired",
    "ReportFailed",
    "ReportRequest",
    "ReportTruncated",
    "ReportsClient",
    "ServerError",
    "TransportError",
    "UnexpectedContent",
    "UnsafeArchive",
    "ValidationError",
    "VonageError",
    "raise_for_outcome",
]

"""Typed values the client accepts and returns.

``Report`` keeps the raw JSON next to the parsed fields: the API echoes request parameters and adds
fields over time, and the reuse check (``Report.matches``) needs the echoed filters as sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from include.vonage_cdr.client.timestamps import format_vonage_timestamp, parse_optional_timestamp

DEFAULT_BASE_URL = "https://api.nexmo.com"

#: statuses after which a report never changes again
TERMINAL_STATUSES = frozenset({"SUCCESS", "TRUNCATED", "FAILED", "ABORTED"})
#: statuses of a report we may reuse instead of paying for a new one
REUSABLE_STATUSES = ("PENDING", "PROCESSING", "SUCCESS", "TRUNCATED")
#: product filters (docs/vonage-reports-api.md, Direction and filters); a listed report echoing one
#: of these must match the request's
FILTER_NAMES = frozenset(
    {
        "status", "from", "to", "country", "network", "client_ref", "account_ref", "show_concatenated",
        "provider", "call_id", "conversation_id", "leg_id", "type", "locale", "number_type", "channel",
        "parent_request_id", "number", "request_type", "risk", "swapped", "product_name",
        "request_session_id", "product_path", "correlation_id", "session_id", "meeting_id",
    }
)  # fmt: skip
#: parameters Vonage may echo with their default value although the request did not send them (and may
#: leave out although it was sent): at its default such a parameter means the same report either way
ECHOED_DEFAULTS = {"show_concatenated": "false", "include_message": "false", "include_subaccounts": "false"}

RateLimit403 = Literal["body", "always", "never"]
CursorExpiredPolicy = Literal["restart", "raise"]


@dataclass(frozen=True)
class ClientSettings:
    """Knobs of the client (defaults: docs/vonage-reports-api.md, Rate limits, Where sources disagree)."""

    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    #: read timeout between chunks of a file download
    download_read_timeout: float = 120.0
    #: attempts per call, the first one included
    max_attempts: int = 6
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    backoff_jitter: float = 0.5
    #: give up retrying after this many seconds in total (Retry-After waits included)
    max_retry_time: float = 300.0
    #: longest wait honoured from a ``Retry-After`` header; a longer one is cut to this
    max_retry_after: float = 60.0
    #: client-side pacing per account: async endpoints (create/get/list/cancel/download) and sync records
    async_requests_per_second: float = 4.5
    sync_requests_per_second: float = 9.5  # 95 % of 10 rps; burst 1: no 1-second window holds more than 10
    #: how a 403 is read (open question 5): "body" = rate limit only if the body says so; "always"; "never"
    rate_limit_403: RateLimit403 = "body"
    #: longest sync window per request (open question 1: stay <= 24 h); longer windows are split
    max_sync_window: timedelta = timedelta(hours=24)
    #: what to do when a sync cursor is rejected (422 on a cursor page): restart the window, or raise
    on_cursor_expired: CursorExpiredPolicy = "restart"
    max_cursor_restarts: int = 2
    #: caps that protect the worker's disk/memory from a wrong or hostile download
    max_download_bytes: int = 2 * 1024**3
    max_uncompressed_bytes: int = 32 * 1024**3
    max_zip_members: int = 1000
    download_chunk_bytes: int = 1024 * 1024
    #: reuse reports received less than this long ago (files live 72 h). Below a day, so a re-load of a
    #: day at a later lag (to pick up settled statuses) never reuses the earlier, stale report
    reuse_max_age: timedelta = timedelta(hours=20)
    user_agent: str = "vonage-cdr-warehouse/0.1"

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> ClientSettings:
        """Build settings from a connection's extras; unknown keys are ignored, numbers may be strings."""
        kwargs: dict[str, Any] = {}
        for name, spec in cls.__dataclass_fields__.items():
            if name not in options or options[name] in (None, ""):
                continue
            raw = options[name]
            default = spec.default
            if isinstance(default, bool):
                kwargs[name] = raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes")
            elif isinstance(default, timedelta):
                kwargs[name] = raw if isinstance(raw, timedelta) else timedelta(seconds=float(raw))
            elif isinstance(default, int):
                kwargs[name] = int(raw)
            elif isinstance(default, float):
                kwargs[name] = float(raw)
            else:
                kwargs[name] = str(raw)
        settings = cls(**kwargs)
        if settings.rate_limit_403 not in ("body", "always", "never"):
            raise ValueError(f"rate_limit_403 must be body, always or never, not {settings.rate_limit_403!r}")
        if settings.on_cursor_expired not in ("restart", "raise"):
            raise ValueError(
                f"on_cursor_expired must be restart or raise, not {settings.on_cursor_expired!r}"
            )
        return settings


def _bool(value: Any) -> bool:
    """JSON booleans or the strings "true"/"false" (docs/vonage-reports-api.md, Numbers on the wire)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def to_int(value: Any) -> int | None:
    """Numbers arrive as strings: "2274" -> 2274, ""/None -> None.

    docs/vonage-reports-api.md, Numbers on the wire.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return int(float(value))


@dataclass(frozen=True)
class ReportRequest:
    """Parameters of an async report (POST /v2/reports). Dates are aware UTC datetimes."""

    product: str
    account_id: str
    date_start: datetime
    date_end: datetime
    direction: str | None = None
    include_subaccounts: bool = False
    include_message: bool = False
    callback_url: str | None = None
    filters: Mapping[str, str] = field(default_factory=dict)

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "product": self.product,
            "account_id": self.account_id,
            "date_start": format_vonage_timestamp(self.date_start),
            "date_end": format_vonage_timestamp(self.date_end),
            "include_subaccounts": self.include_subaccounts,
        }
        if self.direction:
            body["direction"] = self.direction
        if self.include_message:
            body["include_message"] = True
        if self.callback_url:
            body["callback_url"] = self.callback_url
        for key, value in self.filters.items():
            body[key] = value
        return body

    def fingerprint(self) -> str:
        """SHA-256 of the request body in canonical JSON: equal for exactly the same report parameters.

        Durable report identity is keyed by it (``cdr.report_requests``), so a retry or a re-run asks
        Vonage about the report it already paid for instead of creating another one.
        """
        canonical = json.dumps(self.to_body(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Report:
    """An async report as returned by create/get/list/cancel (flat shape, other shape tolerated)."""

    request_id: str
    request_status: str
    items_count: int | None
    download_url: str | None
    product: str | None
    account_id: str | None
    date_start: datetime | None
    date_end: datetime | None
    direction: str | None
    include_subaccounts: bool
    receive_time: datetime | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        # docs/vonage-reports-api.md, open question 4: a portal snapshot nests params, says download_url
        params: Mapping[str, Any] = data.get("request_params") or data
        links = data.get("_links") or {}
        download = (links.get("download_report") or {}).get("href") or data.get("download_url")
        return cls(
            request_id=str(data.get("request_id") or data.get("id") or ""),
            request_status=str(data.get("request_status") or data.get("status") or "").upper(),
            items_count=to_int(data.get("items_count")),
            download_url=download or None,
            product=params.get("product"),
            account_id=params.get("account_id"),
            date_start=parse_optional_timestamp(params.get("date_start")),
            date_end=parse_optional_timestamp(params.get("date_end")),
            direction=params.get("direction") or None,
            include_subaccounts=_bool(params.get("include_subaccounts", False)),
            receive_time=parse_optional_timestamp(data.get("receive_time")),
            raw=dict(data),
        )

    @property
    def is_terminal(self) -> bool:
        return self.request_status in TERMINAL_STATUSES

    def matches(self, req: ReportRequest) -> bool:
        """True when this report was made for exactly these parameters (so reusing it costs nothing)."""
        params: Mapping[str, Any] = self.raw.get("request_params") or self.raw
        if (self.product or "").upper() != req.product.upper() or self.account_id != req.account_id:
            return False
        if self.date_start != req.date_start or self.date_end != req.date_end:
            return False
        if (self.direction or None) != (req.direction or None):
            return False
        if self.include_subaccounts != req.include_subaccounts:
            return False
        if _bool(params.get("include_message", False)) != req.include_message:
            return False
        wanted = {key: str(value).lower() for key, value in req.filters.items()}
        echoed = {
            key: str(value).lower()
            for key, value in params.items()
            if (key in FILTER_NAMES or key in wanted) and value not in (None, "")
        }
        if echoed.get("status") == self.request_status.lower() and "status" not in wanted:
            echoed.pop("status")  # the report's own status under the other schema, not a filter
        for key, default in ECHOED_DEFAULTS.items():
            # a parameter at its default means the same report whether it was sent/echoed or left out
            if wanted.get(key) == default:
                wanted.pop(key)
            if echoed.get(key) == default:
                echoed.pop(key)
        return echoed == wanted

    def summary(self) -> dict[str, Any]:
        """A small JSON-safe dict (for XCom and logs): no raw body, no credentials."""
        return {
            "request_id": self.request_id,
            "request_status": self.request_status,
            "items_count": self.items_count,
            "download_url": self.download_url,
            "product": self.product,
            "account_id": self.account_id,
            "date_start": format_vonage_timestamp(self.date_start) if self.date_start else None,
            "date_end": format_vonage_timestamp(self.date_end) if self.date_end else None,
            "direction": self.direction,
        }


@dataclass(frozen=True)
class RecordsPage:
    """One page of GET /v2/reports/records (at most 1000 records)."""

    records: list[dict[str, Any]]
    request_id: str | None
    request_status: str
    items_count: int
    ids_not_found: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

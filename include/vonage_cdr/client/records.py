"""Helpers for the sync records endpoint: window splitting and next-page URLs.

Kept apart from the client so the pagination rules (docs/vonage-reports-api.md, Sync pagination) are
readable on their own: follow ``_links.next.href``, but re-add any original parameter the link dropped (a
.NET fixture shows links without some params) and the ``cursor``/``iv`` from the body when the link lacks
them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from include.vonage_cdr.client.models import RecordsPage, to_int

RECORDS_PATH = "/v2/reports/records"
MAX_IDS_PER_REQUEST = 20


def split_windows(
    start: datetime, end: datetime, max_window: timedelta
) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive half-open windows [a, b) no longer than ``max_window`` that cover [start, end)."""
    if end <= start:
        return
    cursor = start
    while cursor < end:
        nxt = min(cursor + max_window, end)
        yield cursor, nxt
        cursor = nxt


def next_page(body: Mapping[str, Any], original: Mapping[str, str]) -> tuple[str, dict[str, str]] | None:
    """(URL without query, params) of the next page, or None when the body is the last page."""
    if str(body.get("request_status", "")).upper() != "TRUNCATED":
        return None
    href = ((body.get("_links") or {}).get("next") or {}).get("href")
    params: dict[str, str] = {}
    url = RECORDS_PATH
    if href:
        parts = urlsplit(href)
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) if parts.netloc else parts.path
        params.update(parse_qsl(parts.query, keep_blank_values=True))
    for key, value in original.items():
        params.setdefault(key, value)
    for key in ("cursor", "iv"):
        if not params.get(key) and body.get(key):
            params[key] = str(body[key])
    if not params.get("cursor"):
        return None
    return url or RECORDS_PATH, params


def to_page(body: Mapping[str, Any]) -> RecordsPage:
    records = body.get("records") or []
    not_found = body.get("ids_not_found") or []
    if isinstance(not_found, str):
        not_found = [i.strip() for i in not_found.split(",") if i.strip()]
    return RecordsPage(
        records=[dict(r) for r in records],
        request_id=body.get("request_id"),
        request_status=str(body.get("request_status") or "").upper(),
        items_count=to_int(body.get("items_count")) or len(records),
        ids_not_found=[str(i) for i in not_found],
        raw={k: v for k, v in body.items() if k != "records"},
    )

"""Helpers for the sync records endpoint: window splitting and next-page URLs.

Kept apart from the client so the pagination rules (docs/vonage-reports-api.md, Sync pagination) are
readable on their own: follow ``_links.next.href`` as given, but re-add any original parameter the link
dropped (a published .NET fixture shows links without some params) and the ``cursor``/``iv`` from the body
when the link lacks them.

The link's query string is sent back verbatim, never decoded and re-encoded: form decoding would turn a
``+`` of a base64 cursor into a space, and the server would then reject (or misread) its own cursor.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

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


@dataclass(frozen=True)
class NextPage:
    """Where the next page is: ``url`` (the link with its query untouched, or the records path) plus the
    ``params`` to append (original parameters the link dropped, ``cursor``/``iv`` it lacks), and the
    ``cursor`` value as the server will read it (for loop detection)."""

    url: str
    cursor: str
    params: dict[str, str] = field(default_factory=dict)


def query_pairs(query: str) -> list[tuple[str, str]]:
    """``a=1&b=x+y`` -> ``[("a", "1"), ("b", "x+y")]``: percent-decoding only, a ``+`` stays a ``+``."""
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def next_page(body: Mapping[str, Any], original: Mapping[str, str]) -> NextPage | None:
    """The next page of a TRUNCATED records answer, or None when the body is the last page."""
    if str(body.get("request_status", "")).upper() != "TRUNCATED":
        return None
    href = ((body.get("_links") or {}).get("next") or {}).get("href")
    in_link: dict[str, str] = {}
    url = RECORDS_PATH
    if href:
        parts = urlsplit(href)
        base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) if parts.netloc else parts.path
        url = base or RECORDS_PATH
        if parts.query:
            url = f"{url}?{parts.query}"
        in_link = dict(query_pairs(parts.query))
    added: dict[str, str] = {k: v for k, v in original.items() if k not in in_link}
    for key in ("cursor", "iv"):
        if not in_link.get(key) and body.get(key):
            added[key] = str(body[key])
    cursor = in_link.get("cursor") or added.get("cursor")
    if not cursor:
        return None
    return NextPage(url=url, cursor=cursor, params=added)


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

"""`GET /v2/reports/records`: date-mode pages of at most 1000 records with encrypted cursors, and id mode.

Why: the pipeline's incremental reader follows `_links.next.href` until SUCCESS (docs/vonage-reports-api.md,
Sync pagination). The cursor is an index position (day, record index) so a page costs O(page), encrypted with
a keyed stream cipher under a fresh random `iv` and authenticated, so a cursor without its iv, with another
iv, or replayed with different filters is rejected with 422 (our choice: cursor rules are undocumented).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from include.simulator.generate import DataModel, project
from include.simulator.problems import problem
from include.simulator.validation import Query

PAGE_SIZE = 1000
_PEEK_LIMIT = 50_000


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._key = hashlib.blake2b(secret, digest_size=32).digest()

    def _stream(self, iv: bytes, n: int) -> bytes:
        out, counter = b"", 0
        while len(out) < n:
            out += hashlib.blake2b(iv + counter.to_bytes(4, "big"), key=self._key, digest_size=64).digest()
            counter += 1
        return out[:n]

    def encode(self, payload: dict[str, Any]) -> tuple[str, str]:
        iv = os.urandom(16)
        raw = json.dumps(payload, separators=(",", ":")).encode()
        body = bytes(a ^ b for a, b in zip(raw, self._stream(iv, len(raw)), strict=True))
        tag = hmac.new(self._key, iv + body, "sha256").digest()[:16]
        return _b64(body + tag), _b64(iv)

    def decode(self, cursor: str, iv_text: str) -> dict[str, Any] | None:
        try:
            data, iv = _unb64(cursor), _unb64(iv_text)
        except ValueError:
            return None
        body, tag = data[:-16], data[-16:]
        if len(iv) != 16 or not hmac.compare_digest(
            tag, hmac.new(self._key, iv + body, "sha256").digest()[:16]
        ):
            return None
        raw = bytes(a ^ b for a, b in zip(body, self._stream(iv, len(body)), strict=True))
        return json.loads(raw)


def _bad_cursor(detail: str) -> Exception:
    url = "https://developer.nexmo.com/api-errors/reports#invalid-cursor"
    return problem(422, url, "Invalid cursor", detail,
                   [{"name": "cursor", "reason": detail}])  # fmt: skip


CURSOR_EXPIRED = "The cursor has expired"


def expired_cursor() -> Exception:
    """The answer to a cursor that is too old (TTL) or refused by the `expired_cursor_rate` fault."""
    return _bad_cursor(CURSOR_EXPIRED)


def filter_hash(q: Query) -> str:
    raw = json.dumps({k: v for k, v in sorted(q.echo.items())}, default=str, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def envelope(q: Query, self_href: str, now: datetime, items: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "_links": {"self": {"href": self_href}},
        "request_id": str(uuid.uuid4()),
        "request_status": "SUCCESS",
        "received_at": now.strftime("%Y-%m-%dT%H:%M:%S+0000"),
        "price": round(items * 0.0004, 6),
        "currency": "EUR",
    }
    body.update(q.echo)
    return body


def records_page(
    model: DataModel,
    codec: CursorCodec,
    q: Query,
    *,
    cursor: str | None,
    iv: str | None,
    base_url: str,
    self_query: list[tuple[str, str]],
    now: datetime,
    cursor_ttl: float | None,
) -> dict[str, Any]:
    """One response of the sync endpoint (date mode or id mode)."""
    self_href = f"{base_url}/v2/reports/records?{urlencode(self_query)}"
    if q.ids is not None:
        found, missing_ids = [], []
        for value in q.ids:
            rec = model.lookup_id(q.account_id, q.product, value, now)
            if rec is None or (q.direction and rec.get("direction") != q.direction):
                missing_ids.append(value)
            else:
                found.append(project(rec, q.spec, q.include_message, q.show_concatenated))
        body = envelope(q, self_href, now, len(found))
        body.update({"items_count": len(found), "ids_not_found": ",".join(missing_ids), "records": found})
        return body

    fh = filter_hash(q)
    position = None
    if cursor is not None or iv is not None:
        if not cursor or not iv:
            raise _bad_cursor("cursor and iv must be sent together")
        payload = codec.decode(cursor, iv)
        if payload is None:
            raise _bad_cursor("The cursor could not be decrypted with this iv")
        if payload.get("f") != fh:
            raise _bad_cursor("The cursor does not belong to these request parameters")
        if cursor_ttl is not None and now.timestamp() - payload["t"] > cursor_ttl:
            raise expired_cursor()
        position = (payload["d"], payload["i"])

    it = model.iter_window(q.account_id, q.product, q.start.timestamp(), q.end.timestamp(), as_of=now,
                           direction=q.direction, filters=q.filters, position=position)  # fmt: skip
    records: list[dict[str, str]] = []
    next_pos = None
    for pos, rec in it:
        if len(records) == PAGE_SIZE:
            next_pos = pos
            break
        records.append(project(rec, q.spec, q.include_message, q.show_concatenated))
    body = envelope(q, self_href, now, len(records))
    body["items_count"] = len(records)
    if next_pos is not None:
        token, iv_out = codec.encode({"d": next_pos[0], "i": next_pos[1], "f": fh, "t": now.timestamp()})
        next_query = [(k, v) for k, v in self_query if k not in ("cursor", "iv")]
        next_query += [("cursor", token), ("iv", iv_out)]
        body["request_status"] = "TRUNCATED"
        body["cursor"], body["iv"] = token, iv_out
        body["_links"]["next"] = {"href": f"{base_url}/v2/reports/records?{urlencode(next_query)}"}
    body["records"] = records
    return body

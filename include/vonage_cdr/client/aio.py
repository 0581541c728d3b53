"""Non-blocking report status and cancel calls on aiohttp, for Airflow's triggerer event loop.

Why a second transport: the triggerer runs every trigger in one asyncio loop, so a blocking ``requests``
call there would stall all other triggers. Only the two calls a poller needs exist here (get, cancel);
they share the error mapping, the retry rules (5xx, connection errors, 429 with ``Retry-After``) and the
per-account pacing budget with the sync client.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from include.vonage_cdr.client.errors import (
    ConflictError,
    NotFound,
    RateLimited,
    ReportExpired,
    ServerError,
    TransportError,
    VonageError,
)
from include.vonage_cdr.client.http import (
    Redactor,
    capped_retry_after,
    error_from_parts,
    problem_from_text,
    shared_bucket,
)
from include.vonage_cdr.client.models import ClientSettings, Report

log = logging.getLogger("include.vonage_cdr.client")


class AsyncReportsClient:
    """``get_report``/``cancel_report`` over aiohttp. Use as ``async with AsyncReportsClient(...) as c``."""

    def __init__(
        self, base_url: str, api_key: str, api_secret: str, settings: ClientSettings | None = None
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must look like https://api.nexmo.com, got {base_url!r}")
        self.base_url = f"{parts.scheme}://{parts.netloc}{parts.path}"
        self.api_key = api_key
        self.settings = settings or ClientSettings()
        token = base64.b64encode(f"{api_key}:{api_secret}".encode()).decode()
        self._auth_header = {"Authorization": f"Basic {token}"}
        self._redact = Redactor(api_secret)
        self._bucket = shared_bucket(parts.netloc, api_key, "async", self.settings.async_requests_per_second)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"AsyncReportsClient(base_url={self.base_url!r}, api_key={self.api_key!r})"

    async def __aenter__(self) -> AsyncReportsClient:
        s = self.settings
        timeout = aiohttp.ClientTimeout(sock_connect=s.connect_timeout, sock_read=s.read_timeout,
                                        total=s.connect_timeout + s.read_timeout)  # fmt: skip
        self._session = aiohttp.ClientSession(
            timeout=timeout,
            headers={"User-Agent": s.user_agent, "Accept": "application/json"},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get_report(self, request_id: str) -> Report:
        try:
            body = await self._request("GET", f"/v2/reports/{quote(request_id, safe='')}")
        except NotFound as exc:
            raise ReportExpired(
                f"report {request_id} no longer exists (Vonage keeps report metadata 4 days): {exc}",
                request_id=request_id,
                status=404,
            ) from None
        return Report.from_json(body)

    async def cancel_report(self, request_id: str) -> Report | None:
        """Cancel; ``None`` when the report already finished (409) or is gone (404)."""
        try:
            return Report.from_json(
                await self._request("DELETE", f"/v2/reports/{quote(request_id, safe='')}")
            )
        except (ConflictError, NotFound):
            return None

    async def _request(self, method: str, path: str) -> dict[str, Any]:
        s = self.settings
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._once(method, path)
            except VonageError as exc:
                if not exc.retryable or attempt >= s.max_attempts:
                    raise
                if isinstance(exc, RateLimited) and exc.retry_after is not None:
                    delay = capped_retry_after(exc.retry_after, s.max_retry_after)
                    delay += random.uniform(0, 0.2)  # noqa: S311 - jitter
                else:
                    delay = min(s.backoff_max, s.backoff_initial * 2 ** (attempt - 1))
                    delay += random.uniform(0, s.backoff_jitter)  # noqa: S311 - jitter
                log.warning(
                    "Vonage call failed (%s), retry %d/%d in %.2fs", exc, attempt, s.max_attempts - 1, delay
                )
                await asyncio.sleep(delay)

    async def _once(self, method: str, path: str) -> dict[str, Any]:
        if self._session is None:
            raise RuntimeError("use AsyncReportsClient as an async context manager")
        wait, _ = self._bucket.reserve()
        if wait > 0:
            await asyncio.sleep(wait)
        what = f"{method} {path}"
        try:
            # credentials per request and no redirects: they can never be sent to another host
            async with self._session.request(
                method, self.base_url + path, headers=self._auth_header, allow_redirects=False
            ) as resp:
                text = await resp.text()
                if resp.status >= 400:
                    raise error_from_parts(
                        resp.status,
                        resp.reason or "",
                        resp.headers.get("Retry-After"),
                        problem_from_text(text),
                        api_key=self.api_key,
                        rate_limit_403=self.settings.rate_limit_403,
                        redact=self._redact,
                        what=what,
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransportError(f"{what} -> {type(exc).__name__}: {self._redact(str(exc))}") from None
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ServerError(f"{what} -> HTTP {resp.status} with a body that is not a JSON object")
        return body

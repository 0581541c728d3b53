"""HTTP plumbing: pooled session, client-side pacing, error mapping and retries.

Why here and not in each call: every request to Vonage must have a timeout, go through the per-account
pacing (5 rps async, 10 rps sync: docs/vonage-reports-api.md, Rate limits) and map status codes to the same
exceptions, and the retry policy (tenacity, exponential backoff with jitter, ``Retry-After`` honoured) must
be identical for every endpoint. The API secret lives only in the session's auth tuple; every message built
from a response goes through ``redact`` before it can reach an exception or a log line.

Every response, an error included, carries a ``Date`` header: the transport keeps the newest one as
Vonage's clock (:class:`ServerClock`), so the reuse window and the incremental windows are measured on
the server's clock without a dedicated call. A ``Retry-After`` longer than ``max_retry_after`` is capped:
a broken or hostile header must not park a worker for hours.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, stop_after_delay
from tenacity.wait import wait_exponential_jitter

from include.vonage_cdr.client.errors import (
    AuthenticationError,
    AuthorizationError,
    ConflictError,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    ValidationError,
    VonageError,
)
from include.vonage_cdr.client.models import ClientSettings

log = logging.getLogger("include.vonage_cdr.client")

Kind = Literal["async", "sync"]
T = TypeVar("T")


class TokenBucket:
    """Thread-safe token bucket: ``rate`` tokens per second, at most ``capacity`` stored.

    A caller that finds the bucket empty reserves the next token (the count goes negative) and sleeps
    outside the lock until it is due, so concurrent threads queue in order instead of spinning. With
    ``capacity=1`` no one-second window ever holds more than ``ceil(rate)`` requests.
    """

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = capacity
        self._tokens = capacity
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def reserve(self) -> tuple[float, float]:
        """Reserve the next token without sleeping: (seconds to wait before using it, moment it is due).
        Async callers (the trigger) await ``asyncio.sleep`` on the wait instead of blocking the loop."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
            self._last = now
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        return wait, now + wait

    def acquire(self) -> float:
        """Take one token, sleeping until it is due. Returns the moment (on ``clock``) it was due."""
        wait, due = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return due


_BUCKETS: dict[tuple[str, str, str, float], TokenBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def shared_bucket(host: str, account: str, kind: str, rate: float) -> TokenBucket:
    """One bucket per (host, API key, endpoint kind) in this process: clients made by different
    tasks/threads of the same worker share the account's budget instead of each using all of it."""
    key = (host, account, kind, rate)
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(key)
        if bucket is None:
            bucket = _BUCKETS[key] = TokenBucket(rate)
        return bucket


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date; anything else is ignored."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP ``Date`` header (RFC 9110 IMF-fixdate, or the obsolete forms) as an aware UTC datetime."""
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC per RFC 5322
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


class ServerClock:
    """Vonage's "now", from the ``Date`` header of the newest response (thread-safe).

    The header has one-second resolution and is stamped when the answer was produced, so ``now()`` is the
    newest server date plus the whole seconds elapsed locally since that answer arrived (monotonic clock,
    so a worker's wall-clock step does not matter; no sub-second precision the header never had).
    ``None`` until a response with a ``Date`` has been seen.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._monotonic = monotonic
        self._seen: tuple[datetime, float] | None = None

    def observe(self, date_header: str | None) -> datetime | None:
        when = parse_http_date(date_header)
        if when is not None:
            with self._lock:
                self._seen = (when, self._monotonic())
        return when

    def now(self) -> datetime | None:
        with self._lock:
            seen = self._seen
        if seen is None:
            return None
        when, at = seen
        return when + timedelta(seconds=math.floor(max(0.0, self._monotonic() - at)))


def capped_retry_after(retry_after: float, cap: float) -> float:
    """``Retry-After`` bounded by ``cap`` (a value above it is logged once per call)."""
    if retry_after > cap:
        log.warning("Vonage asked to wait %.0fs (Retry-After); waiting at most %.0fs", retry_after, cap)
        return cap
    return retry_after


def problem_of(resp: requests.Response) -> dict[str, Any]:
    """The RFC 7807 body as a dict, or ``{"detail": <start of the text>}`` when it is not JSON."""
    return problem_from_text(resp.text or "")


def problem_from_text(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {"detail": text[:300]} if text else {}
    return body if isinstance(body, dict) else {"detail": str(body)[:300]}


def _says_rate_limit(problem: Mapping[str, Any]) -> bool:
    text = " ".join(str(problem.get(k, "")) for k in ("type", "title", "detail")).lower()
    return "rate limit" in text or "rate-limit" in text or "too many requests" in text


class Redactor:
    """Replaces the API secret with ``***`` in any text (bodies can echo what they were sent)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def __call__(self, text: str) -> str:
        if self._secret and len(self._secret) >= 3:
            return text.replace(self._secret, "***")
        return text


def error_from_response(
    resp: requests.Response,
    *,
    api_key: str,
    rate_limit_403: str,
    redact: Callable[[str], str],
    what: str,
) -> VonageError:
    """Map a non-2xx ``requests`` response to the client's exception."""
    return error_from_parts(
        resp.status_code,
        resp.reason or "",
        resp.headers.get("Retry-After"),
        problem_of(resp),
        api_key=api_key,
        rate_limit_403=rate_limit_403,
        redact=redact,
        what=what,
    )


def error_from_parts(
    status: int,
    reason: str,
    retry_after: str | None,
    problem: dict[str, Any],
    *,
    api_key: str,
    rate_limit_403: str,
    redact: Callable[[str], str],
    what: str,
) -> VonageError:
    """Map a non-2xx status + problem body to the client's exception, with a message a human can act on
    (shared by the ``requests`` transport and the aiohttp one used in the trigger)."""
    title = redact(str(problem.get("title") or reason or ""))
    detail = redact(str(problem.get("detail") or ""))
    base = f"{what} -> HTTP {status} {title}".rstrip()
    if detail:
        base += f": {detail}"
    if status == 401:
        return AuthenticationError(
            f"{base} (API key {api_key!r} or its secret was rejected; check the connection's login/password)",
            status=status,
            problem=problem,
        )
    if (
        status == 429
        or (status == 403 and rate_limit_403 != "never" and _says_rate_limit(problem))
        or (status == 403 and rate_limit_403 == "always")
    ):
        return RateLimited(
            base,
            status=status,
            problem=problem,
            retry_after=parse_retry_after(retry_after),
        )
    if status == 403:
        return AuthorizationError(
            f"{base} (API key {api_key!r} may not read the requested account_id)",
            status=status,
            problem=problem,
        )
    if status in (400, 422):
        params = [
            (redact(str(p.get("name", "?"))), redact(str(p.get("reason", ""))))
            for p in problem.get("invalid_parameters") or []
            if isinstance(p, Mapping)
        ]
        if params:
            base += " [" + "; ".join(f"invalid parameter {n!r}: {r}" for n, r in params) + "]"
        return ValidationError(base, status=status, problem=problem, invalid_parameters=params)
    if status == 404:
        return NotFound(base, status=status, problem=problem)
    if status == 409:
        return ConflictError(base, status=status, problem=problem)
    if status >= 500:
        return ServerError(base, status=status, problem=problem)
    return VonageError(base, status=status, problem=problem)


class Transport:
    """A pooled ``requests`` session bound to one base URL and one API key.

    ``request`` applies pacing, the timeout, the error mapping and the retry policy. Links returned by
    the API (next page, download) are re-rooted onto the configured base URL when they point elsewhere,
    so the Basic credentials are never sent to a host the user did not configure.
    """

    def __init__(self, base_url: str, api_key: str, api_secret: str, settings: ClientSettings) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must look like https://api.nexmo.com, got {base_url!r}")
        self.base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self.api_key = api_key
        self.settings = settings
        self.redact = Redactor(api_secret)
        self.session = requests.Session()
        self.session.auth = (api_key, api_secret)
        self.session.headers.update({"User-Agent": settings.user_agent, "Accept": "application/json"})
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._buckets = {
            "async": shared_bucket(parts.netloc, api_key, "async", settings.async_requests_per_second),
            "sync": shared_bucket(parts.netloc, api_key, "sync", settings.sync_requests_per_second),
        }
        #: Vonage's clock, from the Date header of the newest response (errors included)
        self.server_clock = ServerClock()

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r}, api_key={self.api_key!r})"

    def close(self) -> None:
        self.session.close()

    # -- URLs ---------------------------------------------------------------------------------------
    def url(self, path_or_link: str) -> str:
        """Absolute URL on the configured host for a path or for a link the API returned."""
        if "://" not in path_or_link:
            return urljoin(self.base_url + "/", path_or_link.lstrip("/"))
        link = urlsplit(path_or_link)
        base = urlsplit(self.base_url)
        if (link.scheme, link.netloc) == (base.scheme, base.netloc):
            return path_or_link
        log.warning(
            "Vonage returned a link to %s://%s; fetching its path from the configured host %s instead",
            link.scheme,
            link.netloc,
            base.netloc,
        )
        return urlunsplit((base.scheme, base.netloc, link.path, link.query, ""))

    # -- requests -----------------------------------------------------------------------------------
    def retrying(self) -> Retrying:
        s = self.settings
        exponential = wait_exponential_jitter(
            multiplier=s.backoff_initial, max=s.backoff_max, jitter=s.backoff_jitter
        )

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimited) and exc.retry_after is not None:
                wait_for = capped_retry_after(exc.retry_after, s.max_retry_after)
                return wait_for + random.uniform(0, min(1.0, 0.1 + wait_for * 0.1))  # noqa: S311
            return exponential(state)

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "Vonage call failed (%s), retry %d/%d in %.2fs",
                exc,
                state.attempt_number,
                s.max_attempts - 1,
                state.upcoming_sleep,
            )

        return Retrying(
            stop=stop_after_attempt(s.max_attempts) | stop_after_delay(s.max_retry_time),
            wait=wait,
            retry=retry_if_exception(lambda e: isinstance(e, VonageError) and e.retryable),
            before_sleep=before_sleep,
            reraise=True,
        )

    def call_with_retries(self, fn: Callable[[], T]) -> T:
        return self.retrying()(fn)

    def send_once(
        self,
        method: str,
        url: str,
        *,
        kind: Kind,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        stream: bool = False,
        read_timeout: float | None = None,
        what: str | None = None,
    ) -> requests.Response:
        """One paced request; raises the mapped ``VonageError`` on failure (no retry here)."""
        self._buckets[kind].acquire()
        label = what or f"{method} {urlsplit(url).path}"
        timeout = (self.settings.connect_timeout, read_timeout or self.settings.read_timeout)
        try:
            resp = self.session.request(method, url, params=params, json=json, stream=stream, timeout=timeout)
        except requests.RequestException as exc:
            raise TransportError(f"{label} -> {type(exc).__name__}: {self.redact(str(exc))}") from None
        self.server_clock.observe(resp.headers.get("Date"))
        if resp.status_code >= 400:
            try:
                raise error_from_response(
                    resp,
                    api_key=self.api_key,
                    rate_limit_403=self.settings.rate_limit_403,
                    redact=self.redact,
                    what=label,
                )
            finally:
                resp.close()
        return resp

    def request_json(
        self,
        method: str,
        path_or_link: str,
        *,
        kind: Kind,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """Send with retries and return the JSON object body."""
        url = self.url(path_or_link)

        def once() -> dict[str, Any]:
            resp = self.send_once(method, url, kind=kind, params=params, json=json)
            try:
                body = resp.json()
            except ValueError:
                raise ServerError(
                    f"{method} {urlsplit(url).path} -> HTTP {resp.status_code} with a body that is not JSON",
                    status=resp.status_code,
                ) from None
            if not isinstance(body, dict):
                raise ServerError(f"{method} {urlsplit(url).path} -> JSON body is not an object")
            return body

        return self.call_with_retries(once) if retry else once()

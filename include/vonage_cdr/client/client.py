"""``ReportsClient``: the typed Reports API client (async reports, downloads, sync records).

One client = one base URL + one API key. It is thread-safe (the session pool, the pacing buckets and the
CDR counter are), counts the CDRs it retrieves (each is billed: docs/vonage-reports-api.md, Pricing) and
never shows the secret in its repr, its logs or its exceptions.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from include.vonage_cdr.client.archive import sniff_content, unexpected_content_error, verify_zip
from include.vonage_cdr.client.errors import (
    AuthenticationError,
    AuthorizationError,
    ConflictError,
    CursorExpired,
    DownloadError,
    DownloadInterrupted,
    DownloadTooLarge,
    NotFound,
    ReportDeadlineExceeded,
    ReportExpired,
    ReportFailed,
    ReportTruncated,
    ServerError,
    TransportError,
    ValidationError,
    VonageError,
)
from include.vonage_cdr.client.http import Transport
from include.vonage_cdr.client.models import (
    DEFAULT_BASE_URL,
    REUSABLE_STATUSES,
    ClientSettings,
    RecordsPage,
    Report,
    ReportRequest,
)
from include.vonage_cdr.client.records import (
    MAX_IDS_PER_REQUEST,
    RECORDS_PATH,
    next_page,
    split_windows,
    to_page,
)
from include.vonage_cdr.client.timestamps import (
    coerce_datetime,
    format_vonage_timestamp,
    parse_vonage_timestamp,
)

log = logging.getLogger("include.vonage_cdr.client")

#: pay-as-you-go price per CDR retrieved (docs/vonage-reports-api.md, Pricing), for cost estimates in logs
EUR_PER_CDR = 0.0004


class ReportsClient:
    """Typed client of the Vonage Reports API on a pooled ``requests`` session."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        api_secret: str = "",
        settings: ClientSettings | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``clock`` gives "now" for the report-age check (tests pass the simulator's clock)."""
        if not api_key or not api_secret:
            raise ValueError("api_key and api_secret are required")
        self.settings = settings or ClientSettings()
        self.api_key = api_key
        self._http = Transport(base_url, api_key, api_secret, self.settings)
        self._lock = threading.Lock()
        self._cdrs = 0
        self._counted_reports: set[str] = set()
        self._explicit_clock = clock is not None
        self._now = clock or (lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"ReportsClient(base_url={self.base_url!r}, api_key={self.api_key!r})"

    def __enter__(self) -> ReportsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def base_url(self) -> str:
        return self._http.base_url

    # -- cost ---------------------------------------------------------------------------------------
    @property
    def cdrs_retrieved(self) -> int:
        """CDRs retrieved by this client so far: sync records returned + items of downloaded reports."""
        with self._lock:
            return self._cdrs

    @property
    def estimated_cost_eur(self) -> float:
        return round(self.cdrs_retrieved * EUR_PER_CDR, 6)

    def _count(self, n: int) -> None:
        with self._lock:
            self._cdrs += n

    # -- async reports ------------------------------------------------------------------------------
    def create_report(
        self, req: ReportRequest, *, on_created: Callable[[Report], None] | None = None
    ) -> Report:
        """POST /v2/reports. Billed, so an ambiguous failure (5xx, connection lost after sending) is
        followed by a lookup of a matching report before the POST is retried: no report is paid twice
        while the list endpoint works (when it does not, see ``find_reusable_report`` for the rule).

        ``on_created(report)`` runs as soon as Vonage has accepted the report, before anything else can
        fail: the Airflow operator records the request id durably there.
        """
        body = req.to_body()
        state = {"ambiguous": False}

        def once() -> Report:
            if state["ambiguous"]:
                existing = self.find_reusable_report(req)
                if existing is not None:
                    log.info("create retry found report %s already created; reusing it", existing.request_id)
                    return existing
            try:
                data = self._http.request_json("POST", "/v2/reports", kind="async", json=body, retry=False)
            except (ServerError, TransportError):
                state["ambiguous"] = True
                raise
            return Report.from_json(data)

        report = self._http.call_with_retries(once)
        if on_created is not None:
            on_created(report)
        log.info(
            "created Vonage report %s (%s %s %s..%s) status %s",
            report.request_id,
            req.product,
            req.direction or "",
            format_vonage_timestamp(req.date_start),
            format_vonage_timestamp(req.date_end),
            report.request_status,
        )
        return report

    def get_report(self, request_id: str) -> Report:
        """GET /v2/reports/{id}; a 404 (unknown, or past the 4-day retention) raises ``ReportExpired``."""
        try:
            data = self._http.request_json("GET", f"/v2/reports/{quote(request_id, safe='')}", kind="async")
        except NotFound as exc:
            raise ReportExpired(
                f"report {request_id} no longer exists (Vonage keeps report metadata 4 days): {exc}",
                request_id=request_id,
                status=404,
            ) from None
        return Report.from_json(data)

    def list_reports(
        self,
        account_id: str,
        statuses: Sequence[str] = REUSABLE_STATUSES,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
    ) -> list[Report]:
        """GET /v2/reports (without dates Vonage lists the previous 7 days)."""
        params: dict[str, str] = {"account_id": account_id, "status": ",".join(s.upper() for s in statuses)}
        if date_from is not None:
            params["date_from"] = format_vonage_timestamp(date_from)
        if date_to is not None:
            params["date_to"] = format_vonage_timestamp(date_to)
        data = self._http.request_json("GET", "/v2/reports", kind="async", params=params)
        return [Report.from_json(r) for r in data.get("reports") or [] if isinstance(r, Mapping)]

    def find_reusable_report(self, req: ReportRequest) -> Report | None:
        """A report already created for exactly ``req`` that is still usable, or None (list endpoint).

        Candidates are PENDING/PROCESSING/SUCCESS/TRUNCATED reports of the account with the same
        product, dates, direction, include_subaccounts, include_message and filters (defaults Vonage
        echoes are tolerated), received less than ``settings.reuse_max_age`` ago on Vonage's clock
        (``receive_time`` against the list answer's ``Date``), and, once finished, still holding a file.
        Finished ones win over running ones, then the newest. The age limit is shorter than a day on
        purpose: a retry or re-run the same day reuses its report, while a deliberate re-load at a later
        lag (for settled statuses) gets fresh data.

        The list endpoint is a safety net, not a dependency. When it fails (404 on an implementation
        without it, 5xx after retries, a malformed answer) the reason is logged and None is returned,
        so the caller creates a new report. Rule: paying for a report twice is better than never
        loading the day; it can only happen when an earlier create's answer was lost *and* the list is
        unavailable, because every report the pipeline creates is recorded durably first
        (``cdr.report_requests``, see :mod:`include.vonage_cdr.client.reuse`). Credential errors
        (401/403) are raised: creating would fail the same way.
        """
        try:
            listed = self.list_reports(req.account_id, REUSABLE_STATUSES)
        except (AuthenticationError, AuthorizationError):
            raise
        except VonageError as exc:
            log.warning(
                "Could not list Vonage reports to look for one to reuse (%s: %s); going on without the "
                "list: a report whose create answer was lost earlier cannot be found and would be paid "
                "again",
                type(exc).__name__,
                exc,
            )
            return None
        now = self.server_now()
        candidates = [r for r in listed if r.matches(req) and self.is_reusable(r, now)]
        if not candidates:
            return None
        rank = {"SUCCESS": 0, "TRUNCATED": 1, "PROCESSING": 2, "PENDING": 3}
        oldest = datetime.min.replace(tzinfo=UTC)
        candidates.sort(
            key=lambda r: (rank.get(r.request_status, 9), -(r.receive_time or oldest).timestamp())
        )
        return candidates[0]

    def is_reusable(self, report: Report, now: datetime) -> bool:
        """Still worth reusing at ``now`` (Vonage's clock): running, or finished with its file, and
        received less than ``settings.reuse_max_age`` ago."""
        return (
            report.request_status in REUSABLE_STATUSES
            and (report.receive_time is None or now - report.receive_time < self.settings.reuse_max_age)
            and (report.request_status not in {"SUCCESS", "TRUNCATED"} or bool(report.download_url))
        )

    def server_now(self) -> datetime:
        """Vonage's clock as of the newest answer's ``Date`` header; the local clock (with a warning)
        before any answer carried one. Costs no request. A ``clock`` given to the constructor wins."""
        if self._explicit_clock:
            return self._now()
        seen = self._http.server_clock.now()
        if seen is not None:
            return seen
        log.warning("No Vonage answer with a Date header yet; using the local clock")
        return self._now()

    def cancel_report(self, request_id: str) -> Report:
        """DELETE /v2/reports/{id} (PENDING/PROCESSING only; 409 ``ConflictError`` when already final)."""
        try:
            data = self._http.request_json(
                "DELETE", f"/v2/reports/{quote(request_id, safe='')}", kind="async"
            )
        except NotFound as exc:
            raise ReportExpired(f"report {request_id} does not exist: {exc}", request_id=request_id) from None
        return Report.from_json(data)

    def wait_for_report(
        self, request_id: str, *, poll_interval: float = 10.0, timeout: float = 3600.0
    ) -> Report:
        """Poll until the report is terminal (blocking; the Airflow operator polls in a trigger instead).

        Past ``timeout`` seconds the report is cancelled and ``ReportDeadlineExceeded`` raised.
        """
        deadline = time.monotonic() + timeout
        while True:
            report = self.get_report(request_id)
            if report.is_terminal:
                return report
            if time.monotonic() >= deadline:
                self.cancel_quietly(request_id)
                raise ReportDeadlineExceeded(
                    f"report {request_id} still {report.request_status} after {timeout:.0f}s; cancelled it",
                    request_id=request_id,
                )
            time.sleep(poll_interval)

    def cancel_quietly(self, request_id: str) -> Report | None:
        """Best-effort cancel: a report that already finished or vanished is not an error here."""
        try:
            return self.cancel_report(request_id)
        except (ConflictError, ReportExpired):
            return None

    def download_report(self, report_or_url: Report | str, dest_dir: Path | str) -> Path:
        """Stream the report file to ``dest_dir`` and validate it; returns the ZIP's path.

        The body is written to a ``.part`` file in chunks (memory stays flat), capped at
        ``settings.max_download_bytes``, checked against Content-Length (a cut connection is retried),
        sniffed (HTML/JSON -> ``UnexpectedContent``) and fully read once to verify every CSV member's CRC
        (a corrupt file is downloaded again). A 404 means the 72-hour file window passed:
        ``ReportExpired``. Items of a downloaded ``Report`` are added to ``cdrs_retrieved``.
        """
        if isinstance(report_or_url, Report):
            report: Report | None = report_or_url
            if not report_or_url.download_url:
                raise DownloadError(
                    f"report {report_or_url.request_id} has no file (status {report_or_url.request_status})"
                )
            url = report_or_url.download_url
            name = f"{report_or_url.product or 'REPORT'}_{report_or_url.request_id}.zip"
        else:
            report, url = None, report_or_url
            name = (urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1] or "report") + ".zip"
        dest = Path(dest_dir)
        dest.mkdir(parents=True, exist_ok=True)
        target = dest / name.replace("/", "_")
        part = dest / f".{target.name}.{uuid.uuid4().hex}.part"
        request_id = report.request_id if report else None

        def once() -> Path:
            try:
                self._fetch_to(url, part)
                verify_zip(
                    part,
                    max_uncompressed_bytes=self.settings.max_uncompressed_bytes,
                    max_members=self.settings.max_zip_members,
                )
            except NotFound as exc:
                raise ReportExpired(
                    f"report file {urlsplit(url).path} is gone (Vonage keeps files 72 hours): {exc}",
                    request_id=request_id,
                    status=404,
                ) from None
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            part.replace(target)
            return target

        try:
            path = self._http.call_with_retries(once)
        finally:
            part.unlink(missing_ok=True)
        if report is not None and report.items_count:
            with self._lock:
                if report.request_id not in self._counted_reports:
                    self._counted_reports.add(report.request_id)
                    self._cdrs += report.items_count
        log.info("downloaded %s (%d bytes)", path.name, path.stat().st_size)
        return path

    def _fetch_to(self, url: str, part: Path) -> None:
        s = self.settings
        full = self._http.url(url)
        what = f"GET {urlsplit(full).path}"
        resp = self._http.send_once(
            "GET", full, kind="async", stream=True, read_timeout=s.download_read_timeout, what=what
        )
        with resp:
            declared = resp.headers.get("Content-Length")
            expected = int(declared) if declared and declared.isdigit() else None
            if expected is not None and expected > s.max_download_bytes:
                raise DownloadTooLarge(f"{what}: {expected} bytes exceed the cap of {s.max_download_bytes}")
            if resp.headers.get("Content-Encoding", "identity") not in ("identity", ""):
                expected = None  # Content-Length counts encoded bytes; we count decoded ones
            written = 0
            head = b""
            with part.open("wb") as fh:
                for chunk in _network_chunks(resp, s.download_chunk_bytes, what):
                    if len(head) < 512:
                        head += chunk[: 512 - len(head)]
                    written += len(chunk)
                    if written > s.max_download_bytes:
                        raise DownloadTooLarge(f"{what}: body passed the cap of {s.max_download_bytes} bytes")
                    fh.write(chunk)
        if expected is not None and written < expected and sniff_content(head) == "zip":
            raise DownloadInterrupted(f"{what}: download truncated ({written} of {expected} bytes)")
        if sniff_content(head) != "zip":
            raise unexpected_content_error(head, what)

    def server_time(self, *, account_id: str | None = None, product: str = "VOICE-CALL") -> datetime:
        """Vonage's idea of "now", so incremental windows are cut on the server's clock, not the worker's.

        The clock comes from the ``Date`` header every answer carries, errors included. One cheap call
        provides a fresh one: an id lookup of a nil UUID (no record, no CDR cost). That call is optional:
        when it succeeds its ``received_at`` refines the answer; when it fails (a 422 from an
        implementation without id lookups, a 5xx, a lost connection) the ``Date`` of whatever answered,
        else of the newest earlier answer, is used, else the local clock with a warning. Only a rejected
        credential (401) is raised: every other call would fail the same way.
        """
        params = {"product": product, "account_id": account_id or self.api_key, "id": _NIL_UUID}
        try:
            body = self._http.request_json("GET", RECORDS_PATH, kind="sync", params=params, retry=False)
        except AuthenticationError:
            raise
        except VonageError as exc:
            log.info("Clock lookup answered %s; using the Date header instead", type(exc).__name__)
        else:
            received = body.get("received_at")
            if received:
                try:
                    return parse_vonage_timestamp(received)
                except ValueError:
                    log.info("received_at %r is not a timestamp; using the Date header", received)
        return self.server_now()

    # -- sync records -------------------------------------------------------------------------------
    def iter_record_pages(
        self,
        product: str,
        account_id: str,
        date_start: datetime | str,
        date_end: datetime | str,
        *,
        direction: str | None = None,
        include_message: bool = False,
        **filters: str,
    ) -> Iterator[RecordsPage]:
        """Pages of GET /v2/reports/records over [date_start, date_end), split into windows of at most
        ``settings.max_sync_window`` (24 h: docs/vonage-reports-api.md, open question 1), following
        ``_links.next.href``.

        Cursor expiry (a 422 on a cursor page): with ``settings.on_cursor_expired == "restart"`` (the
        default) the current window is fetched again from its first page, at most
        ``max_cursor_restarts`` times, so pages already yielded may be yielded again (consumers upsert on
        the record id anyway, open question 10); then, or with ``"raise"``, ``CursorExpired`` is raised.
        """
        start, end = coerce_datetime(date_start), coerce_datetime(date_end)
        for window_start, window_end in split_windows(start, end, self.settings.max_sync_window):
            params: dict[str, str] = {
                "product": product,
                "account_id": account_id,
                "date_start": format_vonage_timestamp(window_start),
                "date_end": format_vonage_timestamp(window_end),
            }
            if direction:
                params["direction"] = direction
            if include_message:
                params["include_message"] = "true"
            for key, value in filters.items():
                if value is not None:
                    params[key] = _query_value(value)
            yield from self._iter_pages(params)

    def iter_records(self, *args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Records of :meth:`iter_record_pages`, flattened."""
        for page in self.iter_record_pages(*args, **kwargs):
            yield from page.records

    def get_records_by_id(
        self, product: str, account_id: str, ids: Sequence[str], *, direction: str | None = None
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Look records up by message/call id (ID mode, batches of at most 20); returns
        ``(records, ids_not_found)``."""
        records: list[dict[str, Any]] = []
        not_found: list[str] = []
        unique = list(dict.fromkeys(i for i in ids if i))
        for offset in range(0, len(unique), MAX_IDS_PER_REQUEST):
            batch = unique[offset : offset + MAX_IDS_PER_REQUEST]
            params = {"product": product, "account_id": account_id, "id": ",".join(batch)}
            if direction:
                params["direction"] = direction
            for page in self._iter_pages(params, restartable=False):
                records.extend(page.records)
                not_found.extend(page.ids_not_found)
        return records, list(dict.fromkeys(not_found))

    def _iter_pages(self, params: dict[str, str], *, restartable: bool = True) -> Iterator[RecordsPage]:
        url, page_params = RECORDS_PATH, dict(params)
        on_cursor = False
        restarts = 0
        seen_cursors: set[str] = set()
        while True:
            try:
                body = self._http.request_json("GET", url, kind="sync", params=page_params)
            except ValidationError as exc:
                if not on_cursor:
                    raise
                policy = self.settings.on_cursor_expired
                if restartable and policy == "restart" and restarts < self.settings.max_cursor_restarts:
                    restarts += 1
                    log.warning(
                        "Vonage rejected the pagination cursor (%s); restarting the window %s..%s (%d/%d)",
                        exc,
                        params.get("date_start"),
                        params.get("date_end"),
                        restarts,
                        self.settings.max_cursor_restarts,
                    )
                    url, page_params, on_cursor = RECORDS_PATH, dict(params), False
                    seen_cursors.clear()
                    continue
                raise CursorExpired(
                    f"pagination cursor rejected for {params.get('product')} "
                    f"{params.get('date_start')}..{params.get('date_end')}: {exc}",
                    status=exc.status,
                    problem=exc.problem,
                ) from None
            page = to_page(body)
            self._count(len(page.records))
            yield page
            following = next_page(body, params)
            if following is None:
                if page.request_status == "TRUNCATED":
                    raise VonageError("a TRUNCATED records page carried neither a next link nor a cursor")
                return
            url, page_params, on_cursor = following.url, following.params, True
            cursor = following.cursor
            if cursor in seen_cursors:
                raise VonageError(
                    "Vonage returned the same pagination cursor twice; stopping to avoid a loop"
                )
            seen_cursors.add(cursor)


_NIL_UUID = "00000000-0000-0000-0000-000000000000"


def raise_for_outcome(report: Report, *, allow_truncated: bool = False) -> Report:
    """Turn a terminal report into an exception unless it is usable: FAILED/ABORTED -> ``ReportFailed``
    (a new report may succeed), TRUNCATED -> ``ReportTruncated`` (split the window) unless allowed."""
    status = report.request_status
    if status in ("FAILED", "ABORTED"):
        raise ReportFailed(
            f"Vonage report {report.request_id} ({report.product} {report.account_id}) ended {status}; "
            "a new report will be created on retry",
            request_id=report.request_id,
        )
    if status == "TRUNCATED" and not allow_truncated:
        raise ReportTruncated(
            f"Vonage report {report.request_id} ({report.product} {report.account_id} "
            f"{report.summary()['date_start']}..{report.summary()['date_end']}) was TRUNCATED at "
            f"{report.items_count} records (size limit ~7 M records / ~1 GB): split the date window into "
            "smaller ones and run again",
            request_id=report.request_id,
        )
    return report


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _network_chunks(resp: requests.Response, size: int, what: str) -> Iterator[bytes]:
    """The body's chunks; any failure while *reading* (reset, timeout, short chunked body) becomes a
    retryable ``TransportError``. Local write errors are raised by the caller, outside this wrapper."""
    stream = resp.raw.stream(size, decode_content=True)
    received = 0
    while True:
        try:
            chunk = next(stream)
        except StopIteration:
            return
        except Exception as exc:  # urllib3's ProtocolError/ReadTimeoutError, requests', socket errors
            raise DownloadInterrupted(
                f"{what}: download interrupted after {received} bytes ({type(exc).__name__})"
            ) from None
        if chunk:
            received += len(chunk)
            yield chunk

"""Exceptions raised by the Reports API client.

Each failure a caller must react to differently has its own class, so DAG code can catch exactly what it
can handle (``ReportExpired`` -> create a new report, ``ReportTruncated`` -> split the window) and let
everything else fail the task.  Messages name the bad parameter or the API key, never the API secret:
they end up in task logs and in Airflow's UI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class VonageError(Exception):
    """Base class of every error raised by the client.

    ``status`` is the HTTP status when the error came from a response, ``problem`` the parsed RFC 7807
    body (type/title/detail/instance/invalid_parameters) when there was one.
    """

    #: whether retrying the same call later can succeed (used by the retry policy)
    retryable: bool = False

    def __init__(
        self, message: str, *, status: int | None = None, problem: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.problem: dict[str, Any] = dict(problem or {})

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only arguments would otherwise break pickling (Airflow pickles exceptions sometimes)
        return (_rebuild, (type(self), self.message, self.status, self.problem, self.__dict__))


def _rebuild(cls: type[VonageError], message: str, status: int | None, problem: Any, state: dict) -> Any:
    obj = cls.__new__(cls)
    Exception.__init__(obj, message)
    obj.__dict__.update(state)
    return obj


class TransportError(VonageError):
    """The request never got a usable HTTP response (connection refused/reset, timeout, TLS)."""

    retryable = True


class AuthenticationError(VonageError):
    """401: the API key/secret pair was rejected. Never retried: retrying cannot fix a credential."""


class AuthorizationError(VonageError):
    """403: the credentials are valid but may not read this account (e.g. not a subaccount of the key)."""


class ValidationError(VonageError):
    """400 or 422: the request itself is wrong. ``invalid_parameters`` lists (name, reason) pairs."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        problem: Mapping[str, Any] | None = None,
        invalid_parameters: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message, status=status, problem=problem)
        self.invalid_parameters = list(invalid_parameters)


class RateLimited(VonageError):
    """429 (or a 403 whose body says rate limit): retried after ``retry_after`` seconds when known."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        problem: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, problem=problem)
        self.retry_after = retry_after


class ServerError(VonageError):
    """5xx from Vonage: transient by assumption, retried with backoff."""

    retryable = True


class NotFound(VonageError):
    """404 on something other than a report or a report file (those raise ``ReportExpired``)."""


class ConflictError(VonageError):
    """409: e.g. cancelling a report that already finished."""


class ReportExpired(VonageError):
    """The report is gone: metadata 404s after 4 days, the file 404s after 72 hours.

    Retrying the same call can never succeed; the cure is to create a new report (the operator does).
    """

    def __init__(self, message: str, *, request_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_id = request_id


class ReportFailed(VonageError):
    """Vonage finished the report with FAILED (or ABORTED): a new report may succeed."""

    def __init__(self, message: str, *, request_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_id = request_id


class ReportTruncated(VonageError):
    """The report hit the size limit (~7 M records / ~1 GB): split the date window and try again."""

    def __init__(self, message: str, *, request_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_id = request_id


class ReportDeadlineExceeded(VonageError):
    """The report did not finish before the configured deadline; it was cancelled remotely."""

    def __init__(self, message: str, *, request_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.request_id = request_id


class DownloadError(VonageError):
    """A report file could not be downloaded or is not a valid, safe ZIP of CSV files."""


class DownloadTooLarge(DownloadError):
    """The compressed or the decompressed size passed the configured cap."""


class UnexpectedContent(DownloadError):
    """The body was HTML or JSON where a ZIP was expected (a login page, a proxy error, a problem JSON)."""

    def __init__(self, message: str, *, content_kind: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.content_kind = content_kind


class UnsafeArchive(DownloadError):
    """The ZIP holds a member whose name could escape the extraction directory, or is encrypted."""


class CorruptArchive(DownloadError):
    """The ZIP is damaged (bad structure, CRC mismatch, truncated data): downloading again may fix it."""

    retryable = True


class DownloadInterrupted(DownloadError, TransportError):
    """The connection broke or the body was shorter than Content-Length: downloading again may fix it."""

    retryable = True


class CursorExpired(VonageError):
    """A sync pagination cursor was rejected (422 on a cursor page) and restarting is not allowed/used up."""

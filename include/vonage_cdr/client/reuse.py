"""Get the report for a request without paying twice: our own durable record first, the list endpoint second.

Why: every async report is billed per CDR, so a retry or a re-run must reuse the report an earlier try
created. The request id Vonage returns is ours: it is recorded durably (a :class:`ReportRegistry`, in
production ``cdr.report_requests`` in the warehouse) the moment Vonage accepts the report, before the
task defers. A later try asks Vonage about those ids (``GET /v2/reports/{id}``) and needs no other
endpoint. The list endpoint (``GET /v2/reports``) stays as the safety net for the one case our record
cannot cover, a create whose answer was lost; when it is unavailable the rule of
:meth:`ReportsClient.find_reusable_report` applies (log why, create a new report).

A registry that fails (warehouse unreachable) is logged and skipped: it must never stop a report from
being requested, because the list endpoint and, at worst, a second report still get the day loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from include.vonage_cdr.client.errors import ReportExpired
from include.vonage_cdr.client.models import Report, ReportRequest

if TYPE_CHECKING:
    from include.vonage_cdr.client.client import ReportsClient

log = logging.getLogger("include.vonage_cdr.client")


class ReportRegistry(Protocol):
    """Durable memory of the reports requested for a set of parameters (keyed by the request fingerprint)."""

    def recent_request_ids(self, req: ReportRequest) -> list[str]:
        """Request ids recorded for exactly ``req``, newest first (only ones Vonage may still know)."""
        ...

    def record(self, req: ReportRequest, report: Report, *, found_by: str) -> None:
        """Remember that ``report`` serves ``req`` (``found_by``: "created" or "listed")."""
        ...


def _recorded_ids(registry: ReportRegistry, req: ReportRequest) -> list[str]:
    try:
        return list(registry.recent_request_ids(req))
    except Exception as exc:  # a registry outage must not stop the report; the list endpoint remains
        log.warning(
            "Could not read recorded report ids (%s: %s); trying the list endpoint", type(exc).__name__, exc
        )
        return []


def _record(registry: ReportRegistry | None, req: ReportRequest, report: Report, found_by: str) -> None:
    if registry is None:
        return
    try:
        registry.record(req, report, found_by=found_by)
    except Exception as exc:
        log.warning(
            "Could not record report %s durably (%s: %s); a retry will have to find it through the list "
            "endpoint",
            report.request_id,
            type(exc).__name__,
            exc,
        )


def record_created(registry: ReportRegistry | None, req: ReportRequest) -> Callable[[Report], None]:
    """An ``on_created`` callback for :meth:`ReportsClient.create_report` that records the new report."""
    return lambda report: _record(registry, req, report, "created")


def reuse_recorded(client: ReportsClient, registry: ReportRegistry, req: ReportRequest) -> Report | None:
    """The newest recorded report for ``req`` that Vonage still has and that is still reusable."""
    for request_id in _recorded_ids(registry, req):
        try:
            report = client.get_report(request_id)
        except ReportExpired:
            log.info("recorded report %s is gone at Vonage; not reusable", request_id)
            continue
        # the GET's own Date header is the freshest reading of Vonage's clock
        if client.is_reusable(report, client.server_now()):
            log.info("reusing recorded Vonage report %s (%s)", request_id, report.request_status)
            return report
        log.info("recorded report %s is %s and not reusable", request_id, report.request_status)
    return None


def obtain_report(
    client: ReportsClient, req: ReportRequest, registry: ReportRegistry | None = None
) -> Report:
    """The report for ``req``: a recorded one, else a listed one, else a new one (billed, recorded now)."""
    if registry is not None:
        recorded = reuse_recorded(client, registry, req)
        if recorded is not None:
            return recorded
    listed = client.find_reusable_report(req)
    if listed is not None:
        try:
            current = client.get_report(listed.request_id)
        except ReportExpired:
            log.warning("listed report %s expired meanwhile; creating a new one", listed.request_id)
        else:
            log.info("reusing listed Vonage report %s (%s)", current.request_id, current.request_status)
            _record(registry, req, current, "listed")
            return current
    return client.create_report(req, on_created=record_created(registry, req))

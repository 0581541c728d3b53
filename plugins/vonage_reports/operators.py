"""``VonageAsyncReportOperator``: create (or reuse) an async report and wait for it in the triggerer.

Why it is shaped like this:

* The report is created on the worker, but a retry or a re-run first reuses a report already created
  with the same parameters: every report is billed per CDR, so a second identical report is money thrown
  away. With ``report_registry_conn_id`` (the daily DAG passes the warehouse connection) the request id is
  recorded in ``cdr.report_requests`` the moment Vonage accepts the report, before deferring, and the next
  try asks Vonage about that id first; the list endpoint is only the safety net for a create whose answer
  was lost, and when it fails the try logs why and creates a report
  (:mod:`include.vonage_cdr.client.reuse` states the rule).
* A rejected credential (401) or a refused account (403, not a rate limit) fails the task at once, with
  no Airflow retry, naming the connection to fix.
* The status is checked before deferring: a reused report may already be final, and deferring with a
  trigger that fires at once widens Airflow 3.3's deferral race (docs/airflow-notes.md, Deferral race).
* Polling happens in :class:`VonageReportTrigger` (aiohttp, nothing blocking) after ``initial_delay``; at
  ``deadline`` seconds after the first attempt the trigger cancels the remote report and the task fails
  with ``ReportDeadlineExceeded``.
* A report that vanished (``ReportExpired``: 404 after Vonage's 4-day retention) is replaced by a new one
  (at most ``max_recreate`` times per try), never retried forever. FAILED raises ``ReportFailed`` (the
  next try creates a new report, since FAILED reports are never reused); TRUNCATED raises
  ``ReportTruncated`` unless ``fail_on_truncated=False``.
* The XCom is a small dict (``Report.summary()``): request_id, request_status, items_count,
  download_url, product, account_id, date_start, date_end, direction. No secret, no raw body.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from include.vonage_cdr.client import (
    Report,
    ReportDeadlineExceeded,
    ReportExpired,
    ReportRequest,
    VonageError,
)
from include.vonage_cdr.client.timestamps import coerce_datetime
from vonage_reports.hooks import VonageReportsHook, credential_failure_message, fail_fast_on_credentials
from vonage_reports.triggers import VonageReportTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

    from include.vonage_cdr.client import ReportsClient
    from include.vonage_cdr.client.reuse import ReportRegistry

CREDENTIAL_ERRORS = ("AuthenticationError", "AuthorizationError")


class VonageAsyncReportOperator(BaseOperator):
    """Create or reuse a Vonage async report, wait until it is final, return its summary dict.

    :param product: Reports API product (``SMS``, ``VOICE-CALL`` ...). Templated.
    :param date_start: window start (datetime or ISO string, ``{{ ds }}`` works). Templated.
    :param date_end: window end, exclusive. Templated.
    :param account_id: account to report on; default the connection's ``account_id`` extra/login. Templated.
    :param direction: ``inbound``/``outbound`` where the product takes one. Templated.
    :param filters: product filters (``{"status": "delivered"}``). Templated.
    :param deadline: seconds after the first attempt after which the report is cancelled and the task fails.
    :param poll_interval: seconds between status polls in the trigger.
    :param initial_delay: seconds before the first poll.
    :param fail_on_truncated: raise ``ReportTruncated`` on TRUNCATED (default) instead of returning it.
    :param deferrable: poll in the triggerer (default); False polls on the worker (tests, no triggerer).
    :param report_registry_conn_id: postgres connection of the warehouse whose ``cdr.report_requests``
        records each report's request id for reuse by retries and re-runs; None: list endpoint only.
    """

    template_fields: Sequence[str] = (
        "product",
        "account_id",
        "date_start",
        "date_end",
        "direction",
        "filters",
    )
    template_fields_renderers = {"filters": "json"}
    ui_color = "#ffe7d1"

    def __init__(
        self,
        *,
        product: str,
        date_start: str | datetime,
        date_end: str | datetime,
        account_id: str | None = None,
        direction: str | None = None,
        include_subaccounts: bool = False,
        include_message: bool = False,
        filters: Mapping[str, str] | None = None,
        vonage_conn_id: str = VonageReportsHook.default_conn_name,
        poll_interval: float = 30.0,
        initial_delay: float = 10.0,
        deadline: float = 6 * 3600.0,
        fail_on_truncated: bool = True,
        max_recreate: int = 2,
        deferrable: bool = True,
        report_registry_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.product = product
        self.date_start = date_start
        self.date_end = date_end
        self.account_id = account_id
        self.direction = direction
        self.include_subaccounts = include_subaccounts
        self.include_message = include_message
        self.filters = dict(filters or {})
        self.vonage_conn_id = vonage_conn_id
        self.poll_interval = poll_interval
        self.initial_delay = initial_delay
        self.deadline = deadline
        self.fail_on_truncated = fail_on_truncated
        self.max_recreate = max_recreate
        self.deferrable = deferrable
        self.report_registry_conn_id = report_registry_conn_id

    # -- helpers ------------------------------------------------------------------------------------
    def _hook(self) -> VonageReportsHook:
        return VonageReportsHook(vonage_conn_id=self.vonage_conn_id)

    def _request(self, hook: VonageReportsHook) -> ReportRequest:
        return ReportRequest(
            product=self.product,
            account_id=self.account_id or hook.account_id,
            date_start=coerce_datetime(self.date_start),
            date_end=coerce_datetime(self.date_end),
            direction=self.direction or None,
            include_subaccounts=bool(self.include_subaccounts),
            include_message=bool(self.include_message),
            filters={str(k): str(v) for k, v in (self.filters or {}).items()},
        )

    def _registry(self, context: Context | None) -> ReportRegistry | None:
        if not self.report_registry_conn_id:
            return None
        from include.vonage_cdr.warehouse.report_requests import WarehouseReportRegistry
        from vonage_reports.pipeline_tasks import airflow_meta, warehouse_dsn

        return WarehouseReportRegistry(
            warehouse_dsn(self.report_registry_conn_id), airflow=airflow_meta(context or {})
        )

    def _obtain(self, client: ReportsClient, req: ReportRequest, context: Context | None = None) -> Report:
        """The report for ``req``: a recorded one, a listed one, else a new one (billed, recorded at once)."""
        from include.vonage_cdr.client.reuse import obtain_report

        return obtain_report(client, req, self._registry(context))

    # -- execution ----------------------------------------------------------------------------------
    def execute(self, context: Context) -> dict[str, Any]:
        hook = self._hook()
        deadline_at = time.time() + float(self.deadline)
        with fail_fast_on_credentials(self.vonage_conn_id), hook.get_client() as client:
            req = self._request(hook)
            report = self._obtain(client, req, context)
            return self._wait_or_defer(
                client, req, report, recreated=0, deadline_at=deadline_at, context=context
            )

    def _wait_or_defer(
        self,
        client: ReportsClient,
        req: ReportRequest,
        report: Report,
        *,
        recreated: int,
        deadline_at: float,
        context: Context | None = None,
    ) -> dict[str, Any]:
        if not report.is_terminal:
            # re-check right before deferring: it may have finished meanwhile (deferral race, 3.3.x)
            try:
                report = client.get_report(report.request_id)
            except ReportExpired:
                return self._recreate(client, req, report.request_id, recreated, deadline_at, context)
        if report.is_terminal:
            return self._finish(report.summary())
        if not self.deferrable:
            remaining = max(0.0, deadline_at - time.time())
            time.sleep(min(self.initial_delay, remaining))
            try:
                done = client.wait_for_report(
                    report.request_id, poll_interval=self.poll_interval, timeout=remaining
                )
            except ReportExpired:
                return self._recreate(client, req, report.request_id, recreated, deadline_at, context)
            return self._finish(done.summary())
        self.log.info("deferring until report %s is final (deadline in %.0fs)", report.request_id,
                      deadline_at - time.time())  # fmt: skip
        self.defer(
            trigger=VonageReportTrigger(
                request_id=report.request_id,
                vonage_conn_id=self.vonage_conn_id,
                poll_interval=self.poll_interval,
                initial_delay=self.initial_delay,
                deadline=deadline_at,
            ),
            method_name="execute_complete",
            kwargs={"recreated": recreated, "deadline_at": deadline_at},
            # backstop only: the trigger itself cancels the report at the deadline and reports it
            timeout=timedelta(seconds=max(0.0, deadline_at - time.time()) + 900),
        )

    def _recreate(
        self,
        client: ReportsClient,
        req: ReportRequest,
        gone_id: str,
        recreated: int,
        deadline_at: float,
        context: Context | None = None,
    ) -> dict[str, Any]:
        if recreated >= self.max_recreate:
            raise ReportExpired(
                f"report {gone_id} expired and {recreated} replacement(s) were already made; giving up",
                request_id=gone_id,
            )
        self.log.warning("report %s is gone (Vonage retention); creating a new one", gone_id)
        from include.vonage_cdr.client.reuse import record_created

        report = client.create_report(req, on_created=record_created(self._registry(context), req))
        return self._wait_or_defer(
            client, req, report, recreated=recreated + 1, deadline_at=deadline_at, context=context
        )

    def execute_complete(
        self,
        context: Context,
        event: dict[str, Any],
        recreated: int = 0,
        deadline_at: float | None = None,
    ) -> dict[str, Any]:
        status = event.get("status")
        request_id = str(event.get("request_id"))
        if status == "done":
            return self._finish(dict(event["report"]))
        if status == "deadline":
            raise ReportDeadlineExceeded(str(event.get("message")), request_id=request_id)
        if status == "expired":
            hook = self._hook()
            with fail_fast_on_credentials(self.vonage_conn_id), hook.get_client() as client:
                return self._recreate(client, self._request(hook), request_id, recreated,
                                      deadline_at or time.time() + float(self.deadline), context)  # fmt: skip
        if event.get("error") in CREDENTIAL_ERRORS:
            from airflow.sdk.exceptions import AirflowFailException

            from include.vonage_cdr.client import errors

            exc = getattr(errors, str(event["error"]))(str(event.get("message")))
            raise AirflowFailException(credential_failure_message(self.vonage_conn_id, exc))
        raise VonageError(f"polling report {request_id} failed: {event.get('message')}")

    def _finish(self, summary: dict[str, Any]) -> dict[str, Any]:
        report = Report.from_json(
            {
                **summary,
                "_links": {"download_report": {"href": summary.get("download_url")}}
                if summary.get("download_url")
                else {},
            }
        )
        from include.vonage_cdr.client import raise_for_outcome

        raise_for_outcome(report, allow_truncated=not self.fail_on_truncated)
        self.log.info(
            "report %s %s with %s records (~%.4f EUR at pay-as-you-go)",
            report.request_id,
            report.request_status,
            report.items_count,
            (report.items_count or 0) * 0.0004,
        )
        return summary

"""``VonageReportTrigger``: polls an async report in the triggerer, without blocking its event loop.

Only the connection id and the report id are serialized (never credentials: trigger kwargs are stored in the
metadata database). Polling starts after ``initial_delay`` (a report is never ready within seconds, and an
immediate event widens the 3.3.x deferral race: docs/airflow-notes.md, Deferral race). Past ``deadline``
(epoch seconds) the remote report is cancelled with DELETE and a "deadline" event is sent, so an abandoned
report does not keep running, and paying, in Vonage.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from include.vonage_cdr.client.errors import ReportExpired, VonageError
from vonage_reports.hooks import VonageReportsHook


class VonageReportTrigger(BaseTrigger):
    """Fires one event: ``{"status": "done" | "expired" | "deadline" | "error", "request_id", ...}``.

    "done" carries ``report`` (the small summary dict, terminal status included); the operator decides
    what FAILED/TRUNCATED mean. Transient errors (5xx, 429, timeouts) only delay the next poll; any other
    error ends polling with "error" and the error's class name (the operator fails at once, without
    retries, on AuthenticationError/AuthorizationError).
    """

    def __init__(
        self,
        request_id: str,
        vonage_conn_id: str = VonageReportsHook.default_conn_name,
        poll_interval: float = 30.0,
        initial_delay: float = 10.0,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.request_id = request_id
        self.vonage_conn_id = vonage_conn_id
        self.poll_interval = float(poll_interval)
        self.initial_delay = float(initial_delay)
        self.deadline = float(deadline) if deadline is not None else None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "request_id": self.request_id,
                "vonage_conn_id": self.vonage_conn_id,
                "poll_interval": self.poll_interval,
                "initial_delay": self.initial_delay,
                "deadline": self.deadline,
            },
        )

    def _event(self, status: str, **extra: Any) -> TriggerEvent:
        return TriggerEvent({"status": status, "request_id": self.request_id, **extra})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = VonageReportsHook(vonage_conn_id=self.vonage_conn_id)
        if self.initial_delay > 0:
            await asyncio.sleep(self._until_deadline(self.initial_delay))
        async with await hook.aget_async_client() as client:
            while True:
                try:
                    report = await client.get_report(self.request_id)
                except ReportExpired as exc:
                    yield self._event("expired", message=str(exc))
                    return
                except VonageError as exc:
                    if not exc.retryable:
                        yield self._event("error", message=str(exc), error=type(exc).__name__)
                        return
                    self.log.warning("polling report %s failed (%s); will poll again", self.request_id, exc)
                    report = None
                if report is not None and report.is_terminal:
                    yield self._event("done", report=report.summary())
                    return
                if self.deadline is not None and time.time() >= self.deadline:
                    cancelled = await client.cancel_report(self.request_id)
                    state = cancelled.request_status if cancelled else "unknown (already finished or gone)"
                    yield self._event(
                        "deadline",
                        message=f"report {self.request_id} was not ready by the deadline; cancel -> {state}",
                    )
                    return
                if report is not None:
                    self.log.info("report %s is %s", self.request_id, report.request_status)
                await asyncio.sleep(self._until_deadline(self.poll_interval))

    def _until_deadline(self, seconds: float) -> float:
        if self.deadline is None:
            return seconds
        return max(0.0, min(seconds, self.deadline - time.time()))

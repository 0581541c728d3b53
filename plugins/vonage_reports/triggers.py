"""``VonageReportTrigger``: polls an async report in the triggerer, without blocking its event loop.

Only the connection id and the report id are serialized (never credentials: trigger kwargs are stored in the
metadata database). Polling starts after ``initial_delay`` (a report is never ready within seconds, and an
immediate event widens the 3.3.x deferral race: docs/airflow-notes.md, Deferral race). Past ``deadline``
(epoch seconds) the remote report is cancelled with DELETE and a "deadline" event is sent, so an abandoned
report does not keep running, and paying, in Vonage.

Nothing blocking runs in the triggerer's event loop, which all triggers share: the triggerer imports
this module inside that loop, so it imports only Airflow's trigger base at the top; the client
modules (aiohttp, which builds its TLS contexts at import) are imported in a worker thread the first
time a trigger runs; the connection is read with ``await aget_connection`` and the secret masked with
``await amask_secret``; HTTP goes through aiohttp with a threaded DNS resolver.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import time
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

DEFAULT_CONN_ID = "vonage_default"  # VonageReportsHook.default_conn_name, without importing the hook here


# Imported lazily by Airflow's ``aget_connection`` the first time a trigger reads a connection.
_AIRFLOW_LAZY_IMPORTS = ("asgiref.sync", "airflow.sdk.execution_time.cache")


def _load_client_modules() -> tuple[ModuleType, ModuleType]:
    """Import the hook and the client (with aiohttp and its TLS contexts): run in a thread, not the loop."""
    for name in _AIRFLOW_LAZY_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    importlib.import_module("include.vonage_cdr.client.aio")
    return importlib.import_module("vonage_reports.hooks"), importlib.import_module(
        "include.vonage_cdr.client.errors"
    )


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
        vonage_conn_id: str = DEFAULT_CONN_ID,
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
        hooks, errors = await asyncio.to_thread(_load_client_modules)
        ReportExpired, VonageError = errors.ReportExpired, errors.VonageError
        hook = hooks.VonageReportsHook(vonage_conn_id=self.vonage_conn_id)
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

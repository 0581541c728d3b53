"""Helpers shared by the client tests: a client bound to a running simulator, report polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from include.simulator import Simulator
from include.vonage_cdr.client import ClientSettings, Report, ReportsClient

DAY = datetime(2026, 11, 19, tzinfo=UTC)
NEXT_DAY = datetime(2026, 11, 20, tzinfo=UTC)

#: small backoffs so fault tests stay quick; pacing stays at the production defaults
FAST_RETRIES = {"backoff_initial": 0.05, "backoff_max": 0.5, "backoff_jitter": 0.05, "read_timeout": 5.0}


@pytest.fixture
def make_client() -> Callable[..., ReportsClient]:
    clients: list[ReportsClient] = []

    def make(sim: Simulator, secret: str | None = None, **settings: object) -> ReportsClient:
        options = {**FAST_RETRIES, **settings}
        client = ReportsClient(
            sim.base_url,
            sim.api_key,
            secret or sim.api_secret,
            ClientSettings(**options),
            clock=sim.clock.now,
        )
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.close()


def wait_terminal(client: ReportsClient, request_id: str, limit: float = 60.0) -> Report:
    """Poll the simulator's fast-paced report until it is final (bounded, not a speed assertion)."""
    deadline = time.monotonic() + limit
    while True:
        report = client.get_report(request_id)
        if report.is_terminal or time.monotonic() > deadline:
            return report
        time.sleep(0.2)

"""VonageReportTrigger: serialization round trip and real polling of the simulator over aiohttp."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from include.simulator import SimClock, SimulatorConfig
from include.vonage_cdr.client import ReportRequest, ReportsClient
from tests.fixtures.simulator import SIM_START
from vonage_reports.triggers import VonageReportTrigger

DAY = datetime(2026, 11, 19, tzinfo=UTC)


def connect(monkeypatch, sim, conn_id: str = "vonage_default", **extra) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps(
            {
                "conn_type": "http",
                "host": sim.base_url,
                "login": sim.api_key,
                "password": sim.api_secret,
                "extra": {"read_timeout": 5, **extra},
            }
        ),
    )


def create(sim) -> str:
    with ReportsClient(sim.base_url, sim.api_key, sim.api_secret) as client:
        req = ReportRequest("SMS", sim.api_key, DAY, DAY + timedelta(days=1), direction="outbound")
        return client.create_report(req).request_id


async def first_event(trigger: VonageReportTrigger, limit: float = 60.0):
    async def go():
        async for event in trigger.run():
            return event.payload
        return None

    return await asyncio.wait_for(go(), limit)


def test_serialize_round_trip_carries_no_credentials() -> None:
    trigger = VonageReportTrigger(
        "r-1", vonage_conn_id="vonage_x", poll_interval=5, initial_delay=1, deadline=123.0
    )
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert classpath == "vonage_reports.triggers.VonageReportTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs  # stored as JSON in the metadata DB
    assert set(kwargs) == {"request_id", "vonage_conn_id", "poll_interval", "initial_delay", "deadline"}


def test_trigger_polls_until_the_report_is_final(simulator, monkeypatch) -> None:
    connect(monkeypatch, simulator)
    request_id = create(simulator)
    event = asyncio.run(first_event(VonageReportTrigger(request_id, poll_interval=0.2, initial_delay=0.1)))
    assert event["status"] == "done"
    assert event["report"]["request_id"] == request_id
    assert event["report"]["request_status"] == "SUCCESS"
    assert event["report"]["items_count"] > 0
    assert simulator.api_secret not in json.dumps(event)


def test_deadline_cancels_the_remote_report(simulator_factory, monkeypatch) -> None:
    sim = simulator_factory(SimulatorConfig(clock=SimClock(start=SIM_START), pending_seconds=3600))
    connect(monkeypatch, sim)
    request_id = create(sim)
    trigger = VonageReportTrigger(
        request_id, poll_interval=0.2, initial_delay=0.1, deadline=time.time() + 0.6
    )
    event = asyncio.run(first_event(trigger))
    assert event["status"] == "deadline"
    assert "ABORTED" in event["message"]
    assert ("DELETE", f"/v2/reports/{request_id}", 200) in sim.request_log


def test_report_past_retention_gives_an_expired_event(simulator, monkeypatch) -> None:
    connect(monkeypatch, simulator)
    request_id = create(simulator)
    simulator.clock.advance(timedelta(days=4, hours=1))
    event = asyncio.run(first_event(VonageReportTrigger(request_id, poll_interval=0.2, initial_delay=0)))
    assert event["status"] == "expired"


def test_bad_credentials_end_the_trigger_with_an_error(simulator, monkeypatch) -> None:
    request_id = create(simulator)
    monkeypatch.setenv(
        "AIRFLOW_CONN_VONAGE_DEFAULT",
        json.dumps(
            {
                "conn_type": "http",
                "host": simulator.base_url,
                "login": simulator.api_key,
                "password": "definitely-wrong-secret",
            }
        ),
    )
    event = asyncio.run(first_event(VonageReportTrigger(request_id, poll_interval=0.2, initial_delay=0)))
    assert event["status"] == "error" and event["error"] == "AuthenticationError"
    assert "definitely-wrong-secret" not in event["message"]


@pytest.mark.parametrize("fault", ["error_rate", "reset_rate"])
def test_transient_faults_only_delay_polling(simulator, monkeypatch, fault) -> None:
    from include.simulator import FaultConfig

    connect(monkeypatch, simulator, backoff_initial=0.05, backoff_max=0.2)
    request_id = create(simulator)
    simulator.set_faults(FaultConfig(seed=1, paths=("/v2/reports/",), **{fault: 0.5}))
    event = asyncio.run(first_event(VonageReportTrigger(request_id, poll_interval=0.2, initial_delay=0)))
    assert event["status"] == "done"

"""Optional endpoints may be missing, answers may be lost, headers may be hostile: the client still works.

An independent implementation of the Reports API answered the report list with 404 and id lookups with
422; our client treated both as mandatory. These tests run the simulator in those modes.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from include.simulator import FaultConfig, SimClock, SimulatorConfig
from include.vonage_cdr.client import ClientSettings, RateLimited, Report, ReportRequest, ReportsClient
from include.vonage_cdr.client.aio import AsyncReportsClient
from include.vonage_cdr.client.records import next_page
from include.vonage_cdr.client.reuse import obtain_report
from tests.client.conftest import DAY, FAST_RETRIES, NEXT_DAY
from tests.client.test_async_reports import sms_request

FROZEN = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def plain_client(sim, **settings: Any) -> ReportsClient:
    """A client with no injected clock: it must learn Vonage's clock from the answers."""
    return ReportsClient(
        sim.base_url, sim.api_key, sim.api_secret, ClientSettings(**{**FAST_RETRIES, **settings})
    )


def created_for(sim, direction: str = "outbound") -> list[dict]:
    return [r for r in sim.reports_created if r.get("direction") == direction]


class MemoryRegistry:
    """An in-memory ReportRegistry (the warehouse one is tested in tests/warehouse)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[str]] = {}
        self.found_by: dict[str, str] = {}

    def recent_request_ids(self, req: ReportRequest) -> list[str]:
        return list(reversed(self.rows.get(req.fingerprint(), [])))

    def record(self, req: ReportRequest, report: Report, *, found_by: str) -> None:
        self.rows.setdefault(req.fingerprint(), []).append(report.request_id)
        self.found_by[report.request_id] = found_by


class BrokenRegistry:
    def recent_request_ids(self, req: ReportRequest) -> list[str]:
        raise ConnectionError("warehouse unreachable")

    def record(self, req: ReportRequest, report: Report, *, found_by: str) -> None:
        raise ConnectionError("warehouse unreachable")


# -- Vonage's clock ------------------------------------------------------------------------------------
def test_server_time_comes_from_the_date_header_when_id_lookups_answer_422(simulator_factory) -> None:
    sim = simulator_factory(
        SimulatorConfig(clock=SimClock(start=FROZEN, rate=0), faults=FaultConfig(id_lookup_status=422))
    )
    with plain_client(sim) as client:
        now = client.server_time()
    assert ("GET", "/v2/reports/records", 422) in sim.request_log  # the optional lookup failed...
    assert abs((now - FROZEN).total_seconds()) < 5  # ...and the clock is Vonage's, not this machine's


def test_server_time_uses_the_id_lookup_when_it_works(simulator_factory) -> None:
    sim = simulator_factory(SimulatorConfig(clock=SimClock(start=FROZEN, rate=0)))
    with plain_client(sim) as client:
        assert client.server_time() == FROZEN
    assert sim.request_log == [("GET", "/v2/reports/records", 200)]


def test_server_time_never_fails_when_the_server_cannot_be_reached(caplog) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = ReportsClient(
        f"http://127.0.0.1:{port}", "abcd1234", "secret-xyz", ClientSettings(**FAST_RETRIES)
    )
    with client, caplog.at_level(logging.WARNING, "include.vonage_cdr.client"):
        now = client.server_time()
    assert abs((now - datetime.now(UTC)).total_seconds()) < 60
    assert "local clock" in caplog.text


def test_reuse_age_is_measured_on_the_list_answers_date(simulator_factory) -> None:
    """No id lookup is needed to tell a report's age: the list answer's Date header is Vonage's clock."""
    clock = SimClock(start=FROZEN, rate=0)
    sim = simulator_factory(SimulatorConfig(clock=clock, faults=FaultConfig(id_lookup_status=422)))
    with plain_client(sim) as client:
        req = sms_request(sim)
        created = client.create_report(req)
        assert client.find_reusable_report(req).request_id == created.request_id
        clock.advance(timedelta(hours=21))  # past the 20 h reuse window on Vonage's clock
        assert client.find_reusable_report(req) is None
    assert not any(path == "/v2/reports/records" for _, path, _ in sim.request_log)


# -- the report list is a safety net, not a dependency ----------------------------------------------------
def test_an_unavailable_list_is_logged_and_treated_as_nothing_found(simulator, caplog) -> None:
    simulator.set_faults(FaultConfig(list_reports_status=404))
    with plain_client(simulator) as client, caplog.at_level(logging.WARNING, "include.vonage_cdr.client"):
        assert client.find_reusable_report(sms_request(simulator)) is None
    assert ("GET", "/v2/reports", 404) in simulator.request_log
    assert "Could not list Vonage reports" in caplog.text and "404" in caplog.text


def test_a_lost_create_answer_is_found_through_the_list_not_paid_twice(simulator) -> None:
    simulator.set_faults(FaultConfig(drop_create_answers=1))
    with plain_client(simulator) as client:
        report = client.create_report(sms_request(simulator))
    assert [r["request_id"] for r in simulator.reports_created] == [report.request_id]
    calls = [(m, p) for m, p, _ in simulator.request_log if p == "/v2/reports"]
    assert calls == [("POST", "/v2/reports"), ("GET", "/v2/reports")]


def test_a_recorded_report_is_reused_without_the_list(simulator) -> None:
    """First try: list unavailable, so a report is created and recorded at once. Next try: found by id."""
    simulator.set_faults(FaultConfig(list_reports_status=404))
    registry = MemoryRegistry()
    req = sms_request(simulator)
    with plain_client(simulator) as client:
        first = obtain_report(client, req, registry)
        assert registry.found_by == {first.request_id: "created"}
        again = obtain_report(client, req, registry)
    assert again.request_id == first.request_id
    assert len(simulator.reports_created) == 1
    lists = [s for m, p, s in simulator.request_log if (m, p) == ("GET", "/v2/reports")]
    assert lists == [404]  # only the first try needed (and missed) the list


def test_retry_after_a_lost_create_answer_with_the_list_working_reuses_the_report(simulator) -> None:
    simulator.set_faults(FaultConfig(drop_create_answers=1))
    registry = MemoryRegistry()
    req = sms_request(simulator)
    with plain_client(simulator, max_attempts=1) as client:
        with pytest.raises(Exception, match="POST /v2/reports"):
            obtain_report(client, req, registry)  # the try fails: the answer never came
        assert registry.rows == {}  # nothing to record: we never learnt the id
        report = obtain_report(client, req, registry)  # the retry
    assert [r["request_id"] for r in simulator.reports_created] == [report.request_id]
    assert registry.found_by == {report.request_id: "listed"}


def test_retry_after_a_lost_create_answer_with_the_list_unavailable_creates_once_more(
    simulator, caplog
) -> None:
    """The stated rule: when neither our record nor the list can find it, paying twice beats never loading."""
    simulator.set_faults(FaultConfig(drop_create_answers=1, list_reports_status=404))
    registry = MemoryRegistry()
    req = sms_request(simulator)
    with plain_client(simulator, max_attempts=1) as client:
        with pytest.raises(Exception, match="POST /v2/reports"):
            obtain_report(client, req, registry)
        with caplog.at_level(logging.WARNING, "include.vonage_cdr.client"):
            report = obtain_report(client, req, registry)
    assert len(simulator.reports_created) == 2
    assert report.request_id == simulator.reports_created[1]["request_id"]
    assert registry.found_by == {report.request_id: "created"}
    assert "would be paid again" in caplog.text


def test_a_broken_registry_does_not_stop_the_report(simulator, caplog) -> None:
    with plain_client(simulator) as client, caplog.at_level(logging.WARNING, "include.vonage_cdr.client"):
        report = obtain_report(client, sms_request(simulator), BrokenRegistry())
    assert [r["request_id"] for r in simulator.reports_created] == [report.request_id]
    assert "Could not read recorded report ids" in caplog.text
    assert "Could not record report" in caplog.text


# -- report matching ---------------------------------------------------------------------------------
def _listed(**extra: Any) -> Report:
    return Report.from_json(
        {
            "request_id": "r1",
            "request_status": "SUCCESS",
            "product": "SMS",
            "account_id": "abcd1234",
            "date_start": "2026-11-19T00:00:00+0000",
            "date_end": "2026-11-20T00:00:00+0000",
            "direction": "outbound",
            "include_subaccounts": False,
            **extra,
        }
    )


def test_report_matching_tolerates_echoed_default_filters() -> None:
    req = ReportRequest("SMS", "abcd1234", DAY, NEXT_DAY, direction="outbound")
    assert _listed(show_concatenated=False, include_message="false").matches(req)
    assert _listed(show_concatenated="false").matches(req)
    sent_default = ReportRequest(
        "SMS", "abcd1234", DAY, NEXT_DAY, direction="outbound", filters={"show_concatenated": "false"}
    )
    assert _listed().matches(sent_default)  # a default we sent and Vonage did not echo
    # a non-default value is a different report
    assert not _listed(show_concatenated=True).matches(req)
    assert not _listed(include_message=True).matches(req)
    assert not _listed(status="delivered").matches(req)


# -- Retry-After -------------------------------------------------------------------------------------
def test_a_huge_retry_after_is_capped(simulator, caplog) -> None:
    """Vonage says wait an hour; the client waits at most max_retry_after, then gives up with the error."""
    simulator.set_faults(FaultConfig(rate_limit_async_rps=0, retry_after_seconds=3600))
    client = plain_client(simulator, max_retry_after=1.0, max_attempts=3)
    started = time.monotonic()
    with (
        client,
        caplog.at_level(logging.WARNING, "include.vonage_cdr.client"),
        pytest.raises(RateLimited) as info,
    ):
        client.list_reports(simulator.api_key, ["SUCCESS"])
    assert info.value.retry_after == 3600
    assert "waiting at most 1s" in caplog.text
    assert time.monotonic() - started < 60  # two capped waits, not two hours


def test_the_trigger_client_caps_retry_after_too(simulator) -> None:
    import asyncio

    simulator.set_faults(FaultConfig(rate_limit_async_rps=0, retry_after_seconds=3600))
    settings = ClientSettings(**{**FAST_RETRIES, "max_retry_after": 1.0, "max_attempts": 3})

    async def poll() -> None:
        async with AsyncReportsClient(
            simulator.base_url, simulator.api_key, simulator.api_secret, settings
        ) as c:
            await c.get_report("00000000-0000-0000-0000-000000000001")

    started = time.monotonic()
    with pytest.raises(RateLimited):
        asyncio.run(poll())
    assert time.monotonic() - started < 60


# -- pagination links ------------------------------------------------------------------------------------
class _PlusCursorServer(BaseHTTPRequestHandler):
    """Two pages; the next link carries a base64 cursor with a raw '+' (and an encoded one, %2B)."""

    href_query = "product=SMS&account_id=abcd1234&cursor=ab+cd/ef%2Bgh==&iv=Xy+z"
    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        if "cursor=" not in self.path:
            host = self.headers["Host"]
            body = (
                '{"request_status": "TRUNCATED", "items_count": 1, "records": [{"id": "1"}], '
                f'"_links": {{"next": {{"href": "http://{host}/v2/reports/records?{self.href_query}"}}}}}}'
            )
        else:
            body = '{"request_status": "SUCCESS", "items_count": 1, "records": [{"id": "2"}]}'
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def test_a_plus_in_a_next_link_is_sent_back_verbatim_not_as_a_space() -> None:
    page = {
        "request_status": "TRUNCATED",
        "_links": {"next": {"href": f"/v2/reports/records?{_PlusCursorServer.href_query}"}},
    }
    following = next_page(page, {"product": "SMS", "account_id": "abcd1234", "date_start": "a"})
    assert following is not None and following.cursor == "ab+cd/ef+gh=="

    _PlusCursorServer.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PlusCursorServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with ReportsClient(base, "abcd1234", "secret-xyz", ClientSettings(**FAST_RETRIES)) as client:
            records = list(client.iter_records("SMS", "abcd1234", DAY, DAY + timedelta(hours=1)))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    assert [r["id"] for r in records] == ["1", "2"]
    second = _PlusCursorServer.seen[1]
    assert second.startswith(f"/v2/reports/records?{_PlusCursorServer.href_query}&"), second
    assert "date_start=" in second  # the original parameters the link dropped were added after it

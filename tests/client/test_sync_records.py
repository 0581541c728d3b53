"""Sync records over real HTTP: pagination beyond 1000, window splitting, id lookups, cursor expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from include.simulator import FaultConfig, SimClock, SimulatorConfig
from include.vonage_cdr.client import CursorExpired
from include.vonage_cdr.client.records import next_page, split_windows
from tests.client.conftest import DAY, NEXT_DAY
from tests.fixtures.simulator import SIM_START


@pytest.fixture
def big_sim(simulator_factory):
    """About 2500 SMS a day (both directions): more than two full pages for one day outbound."""
    return simulator_factory(
        SimulatorConfig(clock=SimClock(start=SIM_START), records_per_day={"SMS": 2500, "*": 50})
    )


def test_pagination_beyond_1000_records_returns_every_record_once(big_sim, make_client) -> None:
    client = make_client(big_sim)
    pages = list(client.iter_record_pages("SMS", big_sim.api_key, DAY, NEXT_DAY, direction="outbound"))
    truth = big_sim.ground_truth(big_sim.api_key, "SMS", DAY.date(), direction="outbound")
    assert len(truth) > 1000
    assert len(pages) == -(-len(truth) // 1000)
    assert [p.request_status for p in pages] == ["TRUNCATED"] * (len(pages) - 1) + ["SUCCESS"]
    ids = [r["id"] for p in pages for r in p.records]
    assert len(ids) == len(set(ids)) == len(truth)
    assert set(ids) == {r["id"] for r in truth}
    assert client.cdrs_retrieved == len(truth)
    # numbers arrive as strings; the client hands records through unchanged for the typed loader
    assert all(isinstance(r["total_price"], str) for r in pages[0].records[:5])


def test_windows_longer_than_24h_are_split(simulator, make_client) -> None:
    client = make_client(simulator)
    start = DAY - timedelta(days=2)
    records = list(client.iter_records("SMS", simulator.api_key, start, NEXT_DAY, direction="inbound"))
    truth = [
        r
        for d in range(3)
        for r in simulator.ground_truth(
            simulator.api_key, "SMS", (start + timedelta(days=d)).date(), direction="inbound"
        )
    ]
    assert sorted(r["id"] for r in records) == sorted(r["id"] for r in truth)
    windows = [p for m, p, s in simulator.request_log if p == "/v2/reports/records" and s == 200]
    assert len(windows) == 3  # one request per 24 h window (the simulator rejects longer ones with 422)


def test_split_windows_cover_the_range_without_overlap() -> None:
    windows = list(split_windows(DAY, DAY + timedelta(hours=50), timedelta(hours=24)))
    assert windows == [
        (DAY, DAY + timedelta(hours=24)),
        (DAY + timedelta(hours=24), DAY + timedelta(hours=48)),
        (DAY + timedelta(hours=48), DAY + timedelta(hours=50)),
    ]
    assert list(split_windows(DAY, DAY, timedelta(hours=1))) == []


def test_next_link_that_drops_parameters_gets_them_back() -> None:
    """A next href may lack original params and the iv; both are re-added.

    docs/vonage-reports-api.md, open question 17.
    """
    body = {
        "request_status": "TRUNCATED",
        "cursor": "CUR",
        "iv": "IV",
        "_links": {"next": {"href": "https://api.nexmo.com/v2/reports/records?product=SMS&cursor=CUR"}},
    }
    original = {"product": "SMS", "account_id": "abcd1234", "direction": "outbound", "date_start": "a"}
    following = next_page(body, original)
    assert following is not None
    assert following.url == "https://api.nexmo.com/v2/reports/records?product=SMS&cursor=CUR"
    assert following.params == {
        "account_id": "abcd1234",
        "direction": "outbound",
        "date_start": "a",
        "iv": "IV",
    }
    assert following.cursor == "CUR"
    assert next_page({"request_status": "SUCCESS"}, original) is None


def test_records_by_id_in_batches_of_20_with_unknown_ids(simulator, make_client) -> None:
    client = make_client(simulator)
    truth = simulator.ground_truth(simulator.api_key, "SMS", DAY.date(), direction="outbound")
    wanted = [r["message_id"] for r in truth[:23]] + ["00000000DEADBEEF", "00000000FEEDFACE"]
    records, not_found = client.get_records_by_id("SMS", simulator.api_key, wanted, direction="outbound")
    assert {r["message_id"] for r in records} == set(wanted[:23])
    assert not_found == ["00000000DEADBEEF", "00000000FEEDFACE"]
    id_calls = [p for m, p, s in simulator.request_log if p == "/v2/reports/records"]
    assert len(id_calls) == 2  # 25 ids -> 20 + 5
    assert client.cdrs_retrieved == 23


def test_expired_cursor_restarts_the_window(big_sim, make_client) -> None:
    """Default policy: a 422 on a cursor page fetches the window again; consumers dedupe on id."""
    big_sim.set_faults(FaultConfig(cursor_ttl_seconds=600))
    client = make_client(big_sim)
    pages = client.iter_record_pages("SMS", big_sim.api_key, DAY, NEXT_DAY, direction="outbound")
    first = next(pages)
    big_sim.clock.advance(timedelta(hours=1))  # the cursor in `first` is now stale
    rest = list(pages)
    truth = {r["id"] for r in big_sim.ground_truth(big_sim.api_key, "SMS", DAY.date(), direction="outbound")}
    seen = {r["id"] for p in [first, *rest] for r in p.records}
    assert seen == truth
    assert [r["id"] for r in rest[0].records] == [r["id"] for r in first.records]  # started over
    assert any(s == 422 for _, p, s in big_sim.request_log)


def test_expired_cursor_raises_when_configured(big_sim, make_client) -> None:
    big_sim.set_faults(FaultConfig(cursor_ttl_seconds=600))
    client = make_client(big_sim, on_cursor_expired="raise")
    pages = client.iter_record_pages("SMS", big_sim.api_key, DAY, NEXT_DAY, direction="outbound")
    next(pages)
    big_sim.clock.advance(timedelta(hours=1))
    with pytest.raises(CursorExpired, match="cursor"):
        next(pages)


def test_cursor_that_keeps_expiring_gives_up_after_the_restart_budget(big_sim, make_client) -> None:
    big_sim.set_faults(FaultConfig(cursor_ttl_seconds=0))
    client = make_client(big_sim, max_cursor_restarts=2)
    with pytest.raises(CursorExpired):
        list(client.iter_record_pages("SMS", big_sim.api_key, DAY, NEXT_DAY, direction="outbound"))
    assert sum(1 for _, p, s in big_sim.request_log if s == 422) == 3


def test_server_time_is_vonage_clock_and_costs_nothing(simulator, make_client) -> None:
    client = make_client(simulator)
    simulator.clock.advance(timedelta(hours=5))
    now = client.server_time()
    assert abs((now - simulator.clock.now()).total_seconds()) < 60
    assert client.cdrs_retrieved == 0

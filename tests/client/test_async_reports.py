"""Async reports against the simulator over real HTTP: create, get, list, reuse, cancel, download, expiry."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest

from include.simulator import FaultConfig, SimClock, SimulatorConfig
from include.vonage_cdr.client import (
    ConflictError,
    ReportExpired,
    ReportFailed,
    ReportRequest,
    ReportTruncated,
    raise_for_outcome,
)
from include.vonage_cdr.client.archive import open_csv_members
from tests.client.conftest import DAY, NEXT_DAY, wait_terminal
from tests.fixtures.simulator import SIM_START


def sms_request(sim, **overrides) -> ReportRequest:
    values = {
        "product": "SMS",
        "account_id": sim.api_key,
        "date_start": DAY,
        "date_end": NEXT_DAY,
        "direction": "outbound",
    }
    values.update(overrides)
    return ReportRequest(**values)


def csv_rows(zip_path: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    with open_csv_members(zip_path) as members:
        for name, stream in members:
            out[name] = list(csv.DictReader(io.TextIOWrapper(stream, "utf-8", newline="")))
    return out


def test_report_lifecycle_and_file_match_ground_truth(simulator, make_client, tmp_path) -> None:
    client = make_client(simulator)
    created = client.create_report(sms_request(simulator))
    assert created.request_status in ("PENDING", "PROCESSING")
    assert created.date_start == DAY and created.direction == "outbound"

    done = wait_terminal(client, created.request_id)
    assert done.request_status == "SUCCESS"
    assert done.download_url and "/v3/media/" in done.download_url
    listed = client.list_reports(simulator.api_key, ["SUCCESS"])
    assert [r.request_id for r in listed] == [created.request_id]

    zip_path = client.download_report(done, tmp_path)
    rows = [row for member in csv_rows(zip_path).values() for row in member]
    truth = simulator.ground_truth(simulator.api_key, "SMS", DAY.date(), direction="outbound",
                                   as_of=done.receive_time)  # fmt: skip
    assert done.items_count == len(rows) == len(truth) > 0
    assert {r["id"] for r in rows} == {r["id"] for r in truth}
    # each CDR in a downloaded report is billed once, however often the file is fetched
    assert client.cdrs_retrieved == done.items_count
    client.download_report(done, tmp_path / "again")
    assert client.cdrs_retrieved == done.items_count
    assert not list(tmp_path.glob("*.part"))


def test_every_csv_member_of_a_subaccount_report_is_read(simulator, make_client, tmp_path) -> None:
    client = make_client(simulator)
    report = client.create_report(sms_request(simulator, include_subaccounts=True))
    done = raise_for_outcome(wait_terminal(client, report.request_id))
    members = csv_rows(client.download_report(done, tmp_path))
    assert len(members) == 3  # primary + subacct1 + subacct2, one CSV each
    truth = sum(
        len(simulator.ground_truth(acct, "SMS", DAY.date(), direction="outbound", as_of=done.receive_time))
        for acct in (simulator.api_key, "subacct1", "subacct2")
    )
    assert sum(len(rows) for rows in members.values()) == truth == done.items_count


def test_reusable_report_is_found_only_for_identical_parameters(simulator, make_client) -> None:
    client = make_client(simulator)
    req = sms_request(simulator, filters={"status": "delivered"})
    created = client.create_report(req)
    assert client.find_reusable_report(req).request_id == created.request_id
    assert client.find_reusable_report(sms_request(simulator)) is None  # no filter -> different report
    assert (
        client.find_reusable_report(
            sms_request(simulator, direction="inbound", filters={"status": "delivered"})
        )
        is None
    )
    assert client.find_reusable_report(sms_request(simulator, date_end=NEXT_DAY + timedelta(hours=1),
                                                   filters={"status": "delivered"})) is None  # fmt: skip
    # the file lives 72 h: a report received longer ago than reuse_max_age is not reused
    simulator.clock.advance(timedelta(hours=21))
    assert client.find_reusable_report(req) is None


def test_cancel_running_report_then_conflict(simulator_factory, make_client) -> None:
    sim = simulator_factory(SimulatorConfig(clock=SimClock(start=SIM_START), pending_seconds=3600))
    client = make_client(sim)
    report = client.create_report(sms_request(sim))
    cancelled = client.cancel_report(report.request_id)
    assert cancelled.request_status == "ABORTED"
    with pytest.raises(ConflictError, match="409"):
        client.cancel_report(report.request_id)
    assert client.cancel_quietly(report.request_id) is None
    with pytest.raises(ReportFailed, match="ABORTED"):
        raise_for_outcome(client.get_report(report.request_id))


def test_expired_file_and_expired_report_raise_report_expired(simulator, make_client, tmp_path) -> None:
    client = make_client(simulator)
    done = wait_terminal(client, client.create_report(sms_request(simulator)).request_id)
    simulator.clock.advance(timedelta(hours=73))
    with pytest.raises(ReportExpired, match="72 hours"):
        client.download_report(done, tmp_path)
    simulator.clock.advance(timedelta(hours=24))
    with pytest.raises(ReportExpired, match="4 days") as info:
        client.get_report(done.request_id)
    assert info.value.request_id == done.request_id
    assert client.cdrs_retrieved == 0


def test_failed_report_raises_report_failed(simulator, make_client) -> None:
    client = make_client(simulator)
    simulator.set_faults(FaultConfig(failed_report_rate=1.0))
    done = wait_terminal(client, client.create_report(sms_request(simulator)).request_id)
    assert done.request_status == "FAILED" and done.download_url is None
    with pytest.raises(ReportFailed, match="new report"):
        raise_for_outcome(done)


def test_truncated_report_tells_the_user_to_split_the_window(
    simulator_factory, make_client, tmp_path
) -> None:
    sim = simulator_factory(SimulatorConfig(clock=SimClock(start=SIM_START), async_max_records=50))
    client = make_client(sim)
    done = wait_terminal(client, client.create_report(sms_request(sim)).request_id)
    assert done.request_status == "TRUNCATED" and done.items_count == 50
    with pytest.raises(ReportTruncated, match="split the date window"):
        raise_for_outcome(done)
    assert raise_for_outcome(done, allow_truncated=True) is done
    rows = csv_rows(client.download_report(done, tmp_path))
    assert sum(len(r) for r in rows.values()) == 50

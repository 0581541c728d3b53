"""Validation rules, lifecycle, data properties and faults of the simulator, over real HTTP."""

# ruff: noqa: E501  (request/expectation tables read better one case per line)
from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests

from include.simulator import Account, FaultConfig
from tests.fixtures.simulator import SIM_START
from tests.simulator.helpers import (
    DAY_END,
    DAY_START,
    auth,
    create,
    download_zip,
    get,
    records,
    wait_terminal,
)

DAY = date(2026, 11, 19)


@pytest.mark.parametrize(
    ("params", "status", "name"),
    [
        ({"product": "SMS", "date_start": DAY_START, "date_end": DAY_END}, 422, "direction"),  # required
        ({"product": "VOICE-TTS", "direction": "outbound", "date_start": DAY_START, "date_end": DAY_END}, 422, "direction"),
        ({"product": "WEBSOCKET-CALL", "direction": "inbound", "date_start": DAY_START, "date_end": DAY_END}, 422, "direction"),
        ({"product": "SMS", "direction": "outbound", "date_start": DAY_START}, 422, "date_end"),
        ({"product": "SMS", "direction": "outbound", "date_start": DAY_START, "date_end": "2026-11-20T00:00:01Z"}, 422, "date_end"),
        ({"product": "SMS", "direction": "outbound", "date_start": "yesterday", "date_end": DAY_END}, 422, "date_start"),
        ({"product": "MEETINGS", "date_start": DAY_START, "date_end": DAY_END}, 422, "product"),
        ({"product": "SMS", "direction": "outbound", "date_start": DAY_START, "date_end": DAY_END, "limit": "5"}, 422, "limit"),
        ({"direction": "outbound", "date_start": DAY_START, "date_end": DAY_END}, 422, "product"),
    ],
)  # fmt: skip
def test_sync_validation_rules(sim, params, status, name):
    resp = records(sim(), **params)
    assert resp.status_code == status
    assert resp.json()["invalid_parameters"][0]["name"] == name


def test_direction_optional_for_voice_returns_both_and_filters(sim):
    s = sim()
    base = {"product": "VOICE-CALL", "date_start": DAY_START, "date_end": DAY_END}
    both = records(s, **base).json()["records"]
    assert {r["direction"] for r in both} == {"inbound", "outbound"}
    out = records(s, direction="outbound", **base).json()["records"]
    assert out == [r for r in both if r["direction"] == "outbound"]


def test_id_mode_rules_and_lookup(sim):
    s = sim()
    recs = records(s, product="SMS", direction="outbound", date_start=DAY_START, date_end=DAY_END).json()[
        "records"
    ]
    bad = records(s, product="SMS", direction="outbound", id=recs[0]["id"], date_start=DAY_START)
    assert bad.status_code == 422 and bad.json()["title"] == "Invalid filter"
    resp = records(s, product="SMS", direction="outbound", id=f"{recs[0]['id']},{recs[1]['message_id']},nope")
    body = resp.json()
    assert resp.status_code == 200
    assert body["records"] == recs[:2]
    assert body["ids_not_found"] == "nope"


def test_strict_window_is_a_setting(sim):
    s = sim(strict_sync_window=False)
    resp = records(s, product="VOICE-CALL", date_start="2026-11-17T00:00:00Z", date_end=DAY_END)
    assert resp.status_code == 200


def test_auth_and_account_rules(sim):
    s = sim(
        accounts=[
            Account("abcd1234", "sandbox-secret-0123", ("subacct1",)),
            Account("other999", "s3cr3t-999"),
        ]
    )
    assert (
        requests.get(f"{s.base_url}/v2/reports/records", auth=("abcd1234", "bad"), timeout=10).status_code
        == 401
    )
    q = {"product": "VOICE-CALL", "date_start": DAY_START, "date_end": DAY_END}
    assert records(s, account_id="other999", **q).status_code == 403
    sub = records(s, account_id="subacct1", **q).json()["records"]
    assert sub and {r["account_id"] for r in sub} == {"subacct1"}
    rid = create(
        s, product="VOICE-CALL", include_subaccounts="true", date_start=DAY_START, date_end=DAY_END
    ).json()
    status = wait_terminal(s, rid["request_id"])
    _, zf = download_zip(s, status["_links"]["download_report"]["href"])
    assert sorted(zf.namelist()) == [
        "report_VOICE-CALL_abcd1234_20261120.csv",
        "report_VOICE-CALL_subacct1_20261120.csv",
    ]
    assert status["items_count"] == len(s.ground_truth("abcd1234", "VOICE-CALL", DAY, as_of=SIM_START)) + len(
        s.ground_truth("subacct1", "VOICE-CALL", DAY, as_of=SIM_START)
    )


def test_malformed_json_gives_400(sim):
    s = sim()
    resp = requests.post(f"{s.base_url}/v2/reports", data=b"{", auth=auth(s), timeout=10)
    assert resp.status_code == 400 and resp.json()["title"] == "Malformed JSON"


def test_pagination_cursor_and_sync_async_agree(sim):
    s = sim(records_per_day=2500)
    params = {"product": "SMS", "direction": "outbound", "date_start": DAY_START, "date_end": DAY_END}
    first = records(s, **params).json()
    assert first["request_status"] == "TRUNCATED" and first["items_count"] == 1000
    assert first["_links"]["next"]["href"].endswith(f"iv={first['iv']}")
    got, body = list(first["records"]), first
    as_of = s.clock.now()
    while body["request_status"] == "TRUNCATED":
        body = requests.get(body["_links"]["next"]["href"], auth=auth(s), timeout=30).json()
        got += body["records"]
    assert "cursor" not in body and "next" not in body["_links"]
    truth = s.ground_truth("abcd1234", "SMS", DAY, direction="outbound", as_of=as_of)
    assert [r["id"] for r in got] == [r["id"] for r in truth]
    no_iv = records(s, cursor=first["cursor"], **params)
    assert no_iv.status_code == 422
    other = records(s, cursor=first["cursor"], iv=first["iv"], **{**params, "direction": "inbound"})
    assert other.status_code == 422
    report = create(s, **params).json()
    status = wait_terminal(s, report["request_id"])
    _, zf = download_zip(s, status["_links"]["download_report"]["href"])
    import csv
    import io

    rows = list(csv.DictReader(io.TextIOWrapper(zf.open(zf.namelist()[0]), encoding="utf-8", newline="")))
    receive = datetime.strptime(report["receive_time"], "%Y-%m-%dT%H:%M:%S%z")
    assert (
        rows == s.ground_truth("abcd1234", "SMS", DAY, direction="outbound", as_of=receive)[::-1]
    )  # newest first
    raw = zf.read(zf.namelist()[0]).decode()
    assert raw.startswith('"account_id","message_id"')


def test_data_is_deterministic_and_late_updates_and_arrivals_happen(sim):
    a, b = sim(), sim()
    t = datetime(2026, 11, 19, 12, tzinfo=UTC)
    assert a.ground_truth("abcd1234", "MESSAGES", DAY, direction="outbound", as_of=t) == b.ground_truth(
        "abcd1234", "MESSAGES", DAY, direction="outbound", as_of=t
    )
    early = {r["id"]: r for r in a.ground_truth("abcd1234", "SMS", DAY, direction="outbound", as_of=t)}
    late = {
        r["id"]: r
        for r in a.ground_truth("abcd1234", "SMS", DAY, direction="outbound", as_of=t + timedelta(days=3))
    }
    assert set(early) < set(late)  # records after 12:00 appear later
    changed = [i for i in early if early[i]["status"] != late[i]["status"]]
    assert changed and all(early[i]["date_finalized"] == "" and late[i]["date_finalized"] for i in changed)
    inbound = a.ground_truth("abcd1234", "SMS", DAY, direction="inbound", as_of=t)
    assert inbound and {r["direction"] for r in inbound} == {"inbound"}
    late_arrivals = a.ground_truth_window(
        "abcd1234", "SMS", t - timedelta(hours=2), t, as_of=t + timedelta(hours=1)
    )
    seen_at_t = a.ground_truth_window("abcd1234", "SMS", t - timedelta(hours=2), t, as_of=t)
    assert len(seen_at_t) <= len(late_arrivals)


def test_message_bodies_only_with_include_message_and_are_tricky(sim):
    s = sim()
    plain = s.ground_truth("abcd1234", "SMS", DAY, direction="outbound", as_of=SIM_START)
    assert "message_body" not in plain[0]
    bodies = {r["message_body"] for r in s.ground_truth("abcd1234", "SMS", DAY, direction="outbound",
                                                        as_of=SIM_START, include_message=True)}  # fmt: skip
    assert any("," in b and "\n" in b for b in bodies) and any('"' in b for b in bodies)
    assert any(not b.isascii() for b in bodies)


def test_retention(sim):
    s = sim()
    old = {"product": "VOICE-CALL", "date_start": "2025-09-01T00:00:00Z", "date_end": "2025-09-02T00:00:00Z"}
    assert records(s, **old).json()["records"] == []
    video = {"product": "VIDEO-API", "date_start": "2026-08-01T00:00:00Z", "date_end": "2026-08-02T00:00:00Z"}
    assert records(s, **video).json()["records"] == []
    assert records(s, **{**video, "date_start": DAY_START, "date_end": DAY_END}).json()["records"]


def test_lifecycle_cancel_conflict_and_expiry(sim):
    s = sim(pending_seconds=3600)
    rid = create(s, product="VOICE-CALL").json()["request_id"]
    assert get(s, f"/v2/reports/{rid}").json()["request_status"] == "PENDING"
    s.clock.advance(timedelta(hours=1, seconds=1))
    assert get(s, f"/v2/reports/{rid}").json()["request_status"] in ("PROCESSING", "SUCCESS")
    aborted = requests.delete(f"{s.base_url}/v2/reports/{rid}", auth=auth(s), timeout=10)
    assert aborted.status_code in (200, 409)
    again = requests.delete(f"{s.base_url}/v2/reports/{rid}", auth=auth(s), timeout=10)
    assert again.status_code == 409 and again.json()["title"] == "Invalid Abort Operation"
    s2 = sim()
    rid2 = create(s2, product="VOICE-CALL", date_start=DAY_START, date_end=DAY_END).json()["request_id"]
    status = wait_terminal(s2, rid2)
    href = status["_links"]["download_report"]["href"]
    assert requests.get(href, auth=auth(s2), timeout=10).status_code == 200
    s2.clock.advance(timedelta(hours=72, seconds=5))
    assert requests.get(href, auth=auth(s2), timeout=10).status_code == 404
    assert "download_report" not in get(s2, f"/v2/reports/{rid2}").json()["_links"]
    s2.clock.advance(timedelta(hours=24))
    assert get(s2, f"/v2/reports/{rid2}").status_code == 404
    assert len(s2.reports_created) == 1


def test_cancel_gives_aborted(sim):
    s = sim(pending_seconds=3600)
    rid = create(s, product="SMS", direction="inbound").json()["request_id"]
    resp = requests.delete(f"{s.base_url}/v2/reports/{rid}", auth=auth(s), timeout=10)
    assert resp.json()["request_status"] == "ABORTED"
    assert "download_report" not in get(s, f"/v2/reports/{rid}").json()["_links"]


def test_callback_is_posted_with_the_status_object(sim):
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        s = sim()
        url = f"http://127.0.0.1:{server.server_port}/hook"
        rid = create(s, product="ASR", callback_url=url, date_start=DAY_START, date_end=DAY_END).json()[
            "request_id"
        ]
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert received and received[0]["request_id"] == rid
        assert received[0]["request_status"] == "SUCCESS" and received[0]["_links"]["download_report"]["href"]
    finally:
        server.shutdown()


def test_rate_limit_429_with_retry_after_and_403_variant(sim):
    s = sim(faults=FaultConfig())
    codes = [get(s, "/v2/reports/nope").status_code for _ in range(8)]
    assert codes[:5] == [404] * 5 and 429 in codes
    limited = next(r for r in (get(s, "/v2/reports/nope") for _ in range(3)) if r.status_code == 429)
    assert limited.headers["Retry-After"] == "1" and limited.json()["type"].endswith("#rate-limit")
    s.set_faults(FaultConfig(rate_limit_status=403))
    time.sleep(1.1)
    codes = [get(s, "/v2/reports/nope") for _ in range(8)]
    assert any(r.status_code == 403 and "rate-limit" in r.json()["type"] for r in codes)


def test_request_faults_5xx_reset_timeout(sim):
    s = sim(faults=FaultConfig(rate_limit=False, error_rate=1.0, error_status=503))
    assert get(s, "/v2/reports/x").status_code == 503
    s.set_faults(FaultConfig(rate_limit=False, reset_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        get(s, "/v2/reports/x")
    s.set_faults(FaultConfig(rate_limit=False, timeout_rate=1.0, timeout_seconds=3))
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(f"{s.base_url}/v2/reports/x", auth=auth(s), timeout=0.5)
    s.set_faults(FaultConfig(rate_limit=False))
    assert get(s, "/v2/reports/x").status_code == 404


def test_download_faults_and_failed_reports(sim):
    s = sim(faults=FaultConfig(rate_limit=False, failed_report_rate=1.0))
    rid = create(s, product="VOICE-CALL", date_start=DAY_START, date_end=DAY_END).json()["request_id"]
    failed = wait_terminal(s, rid)
    assert failed["request_status"] == "FAILED" and "download_report" not in failed["_links"]
    s.set_faults(FaultConfig(rate_limit=False))
    rid = create(s, product="VOICE-CALL", date_start=DAY_START, date_end=DAY_END).json()["request_id"]
    href = wait_terminal(s, rid)["_links"]["download_report"]["href"]
    s.set_faults(FaultConfig(rate_limit=False, html_download_rate=1.0))
    html = requests.get(href, auth=auth(s), timeout=10)
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    s.set_faults(FaultConfig(rate_limit=False, truncated_download_rate=1.0))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(href, auth=auth(s), timeout=10)
    s.set_faults(FaultConfig(rate_limit=False, corrupt_download_rate=1.0))
    import io
    import zipfile

    data = requests.get(href, auth=auth(s), timeout=10).content
    with pytest.raises((zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError)):
        zf = zipfile.ZipFile(io.BytesIO(data))
        zf.read(zf.namelist()[0])


def test_cursor_expiry(sim):
    s = sim(records_per_day=1500, faults=FaultConfig(rate_limit=False, cursor_ttl_seconds=60))
    params = {"product": "VOICE-CALL", "date_start": DAY_START, "date_end": DAY_END}
    first = records(s, **params).json()
    s.clock.advance(timedelta(minutes=5))
    resp = requests.get(first["_links"]["next"]["href"], auth=auth(s), timeout=10)
    assert resp.status_code == 422 and "expired" in resp.json()["detail"]

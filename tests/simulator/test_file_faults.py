"""File faults (short files, missing/renamed columns, undecodable rows), 429 bursts, expired cursors, and
the simulator's count of every fault it injected, over real HTTP."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest
import requests

from include.simulator import FaultConfig, Simulator
from tests.simulator.helpers import DAY_END, DAY_START, auth, create, get, records, wait_terminal


def _report(s: Simulator, product: str = "VOICE-CALL") -> tuple[str, int]:
    rid = create(s, product=product, date_start=DAY_START, date_end=DAY_END).json()["request_id"]
    done = wait_terminal(s, rid)
    return done["_links"]["download_report"]["href"], int(done["items_count"])


def _download(s: Simulator, href: str) -> zipfile.ZipFile:
    resp = requests.get(href, auth=auth(s), timeout=30)
    assert resp.status_code == 200
    assert int(resp.headers["Content-Length"]) == len(resp.content)
    return zipfile.ZipFile(io.BytesIO(resp.content))


def _csv_lines(zf: zipfile.ZipFile) -> list[bytes]:
    (name,) = [n for n in zf.namelist() if n.endswith(".csv")]
    return zf.read(name).splitlines(keepends=True)


def _rows(zf: zipfile.ZipFile) -> list[list[str]]:
    (name,) = [n for n in zf.namelist() if n.endswith(".csv")]
    return list(csv.reader(io.StringIO(zf.read(name).decode("utf-8"), newline="")))


@pytest.mark.parametrize("kind", ["cut", "header_only", "empty_zip", "no_csv"])
def test_a_short_file_holds_fewer_records_than_items_count_and_a_new_download_is_whole(sim, kind):
    s = sim()
    href, items = _report(s)
    good = _csv_lines(_download(s, href))
    assert len(good) == items + 1 > 100
    s.set_faults(FaultConfig(rate_limit=False, short_file_rate=1.0, short_file_kinds=(kind,)))
    short = _download(s, href)
    csv_members = [n for n in short.namelist() if n.endswith(".csv")]
    if kind == "cut":
        lines = _csv_lines(short)
        assert 1 < len(lines) < items + 1
        assert lines == good[: len(lines)], "a cut file is the stored file's beginning, cut at a row"
    elif kind == "header_only":
        assert _csv_lines(short) == good[:1]
    elif kind == "empty_zip":
        assert short.namelist() == []
    else:
        assert short.namelist() and csv_members == []
    assert s.fault_counts() == {f"short_file:{kind}": 1}
    s.set_faults(FaultConfig(rate_limit=False))
    assert _csv_lines(_download(s, href)) == good, "the stored file is intact"


def test_file_faults_are_rolled_per_download_attempt_and_replay_with_the_seed(sim):
    faults = FaultConfig(rate_limit=False, seed=7, short_file_rate=0.5, short_file_kinds=("header_only",))
    outcomes = []
    for _ in range(2):
        s = sim(faults=faults)
        href, items = _report(s)
        outcomes.append([len(_csv_lines(_download(s, href))) == items + 1 for _ in range(12)])
    assert outcomes[0] == outcomes[1], "the same seed and download sequence meet the same faults"
    assert True in outcomes[0] and False in outcomes[0], "a retry may get a good copy, or not"


def test_a_missing_or_renamed_column_changes_only_that_column(sim):
    s = sim()
    href, items = _report(s)
    good = _rows(_download(s, href))
    price = good[0].index("total_price")
    s.set_faults(
        FaultConfig(rate_limit=False, missing_column_rate=1.0, column_fault_columns=("total_price",))
    )
    missing = _rows(_download(s, href))
    assert len(missing) == items + 1
    assert missing == [row[:price] + row[price + 1 :] for row in good]
    s.set_faults(
        FaultConfig(rate_limit=False, renamed_column_rate=1.0, column_fault_columns=("total_price",))
    )
    renamed = _rows(_download(s, href))
    assert renamed[0][price] == "totalPrice"
    assert renamed[1:] == good[1:] and renamed[0][:price] == good[0][:price]
    assert s.fault_counts() == {"missing_column": 1, "renamed_column": 1}


def test_an_undecodable_row_spoils_one_line_and_keeps_the_count(sim):
    s = sim(faults=FaultConfig(rate_limit=False, undecodable_row_rate=1.0))
    href, items = _report(s)
    lines = _csv_lines(_download(s, href))
    assert len(lines) == items + 1
    bad = []
    for number, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
    assert len(bad) == 1 and bad[0] > 0, "exactly one record line, never the header"
    assert s.fault_counts() == {"undecodable_row": 1}


def test_a_malformed_row_has_one_field_too_few(sim):
    s = sim()
    href, items = _report(s)
    good = _rows(_download(s, href))
    s.set_faults(FaultConfig(rate_limit=False, malformed_row_rate=1.0))
    rows = _rows(_download(s, href))
    assert len(rows) == items + 1 and rows[0] == good[0]
    short = [i for i, row in enumerate(rows) if len(row) != len(good[0])]
    assert len(short) == 1 and rows[short[0]] == good[short[0]][:-1]
    assert s.fault_counts() == {"malformed_row": 1}


def test_429_bursts_last_the_configured_number_of_requests(sim):
    s = sim(
        faults=FaultConfig(rate_limit=False, seed=3, rate_limit_burst_rate=0.15, rate_limit_burst_requests=3)
    )
    answers = [get(s, "/v2/reports/nope") for _ in range(60)]
    codes = [r.status_code for r in answers]
    assert set(codes) == {404, 429}
    runs, current = [], 0
    for code in [*codes, 404]:
        if code == 429:
            current += 1
        elif current:
            runs.append(current)
            current = 0
    assert runs and all(n >= 3 for n in runs[:-1]), runs  # the last burst may run past the end
    limited = next(r for r in answers if r.status_code == 429)
    assert limited.headers["Retry-After"] == "1" and limited.json()["type"].endswith("#rate-limit")
    assert s.fault_counts() == {"rate_limit_burst": codes.count(429)}


def test_expired_cursor_rate_refuses_cursor_pages_only(sim):
    s = sim(records_per_day=1500, faults=FaultConfig(rate_limit=False, expired_cursor_rate=1.0))
    params = {"product": "VOICE-CALL", "date_start": DAY_START, "date_end": DAY_END}
    first = records(s, **params)
    assert first.status_code == 200
    resp = requests.get(first.json()["_links"]["next"]["href"], auth=auth(s), timeout=10)
    assert resp.status_code == 422 and "expired" in resp.json()["detail"]
    assert s.fault_counts() == {"expired_cursor": 1}


def test_every_injected_fault_and_expiry_is_counted(sim):
    s = sim(faults=FaultConfig(rate_limit=False, failed_report_rate=1.0))
    rid = create(s, product="VOICE-CALL", date_start=DAY_START, date_end=DAY_END).json()["request_id"]
    assert wait_terminal(s, rid)["request_status"] == "FAILED"
    s.set_faults(FaultConfig(rate_limit=False))
    href, _ = _report(s)
    report_id = s.reports_created[-1]["request_id"]
    s.set_faults(FaultConfig(rate_limit=False, error_rate=1.0, error_status=502))
    assert get(s, "/v2/reports/x").status_code == 502
    s.set_faults(FaultConfig(rate_limit=False, reset_rate=1.0))
    with pytest.raises(requests.ConnectionError):
        get(s, "/v2/reports/x")
    s.set_faults(FaultConfig(rate_limit=False, html_download_rate=1.0))
    assert requests.get(href, auth=auth(s), timeout=10).headers["Content-Type"].startswith("text/html")
    s.set_faults(FaultConfig(rate_limit=False))
    s.clock.advance(timedelta(hours=73))
    assert "download_report" not in get(s, f"/v2/reports/{report_id}").json()["_links"]
    assert requests.get(href, auth=auth(s), timeout=10).status_code == 404
    s.clock.advance(timedelta(hours=24))
    assert get(s, f"/v2/reports/{report_id}").status_code == 404
    assert s.fault_counts() == {
        "connection_reset": 1,
        "expired_file": 2,
        "expired_report": 1,
        "failed_report": 1,
        "html_download": 1,
        "server_error_502": 1,
    }

"""Every fault the simulator can inject, and the errors that must not be retried, over real HTTP."""

from __future__ import annotations

import logging

import pytest

from include.simulator import FaultConfig
from include.vonage_cdr.client import (
    AuthenticationError,
    AuthorizationError,
    CorruptArchive,
    DownloadInterrupted,
    DownloadTooLarge,
    RateLimited,
    ServerError,
    UnexpectedContent,
    ValidationError,
)
from tests.client.conftest import DAY, NEXT_DAY, wait_terminal
from tests.client.test_async_reports import csv_rows, sms_request


def statuses(sim, path_prefix: str) -> list[int]:
    return [s for _, p, s in sim.request_log if p.startswith(path_prefix)]


# -- errors that are never retried, with messages that name the cause but never the secret ------------------
def test_bad_secret_is_an_authentication_error_without_the_secret(simulator, make_client, caplog) -> None:
    wrong = "wrong-secret-XYZ-987"
    client = make_client(simulator, secret=wrong)
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationError) as info:
        client.list_reports(simulator.api_key, ["SUCCESS"])
    text = str(info.value) + repr(info.value) + repr(client) + caplog.text
    assert simulator.api_key in str(info.value)
    assert wrong not in text and simulator.api_secret not in text
    assert statuses(simulator, "/v2/reports") == [401]  # not retried


def test_foreign_account_is_an_authorization_error(simulator, make_client) -> None:
    client = make_client(simulator)
    with pytest.raises(AuthorizationError, match="may not read"):
        client.create_report(sms_request(simulator, account_id="zzzz9999"))
    assert statuses(simulator, "/v2/reports") == [403]


def test_validation_error_names_the_bad_parameter_and_is_not_retried(simulator, make_client) -> None:
    client = make_client(simulator)
    with pytest.raises(ValidationError, match="'direction'") as info:
        client.create_report(sms_request(simulator, direction=None))
    assert info.value.invalid_parameters[0][0] == "direction"
    with pytest.raises(ValidationError, match="422"):
        list(client.iter_record_pages("VOICE-TTS", simulator.api_key, DAY, NEXT_DAY, direction="outbound"))
    with pytest.raises(ValidationError, match="400"):
        client.list_reports(simulator.api_key, ["BOGUS"])
    assert statuses(simulator, "/v2/reports") == [422, 422, 400]


# -- transient faults are retried with backoff ------------------------------------------------------------
def test_5xx_is_retried_until_it_succeeds(simulator, make_client) -> None:
    simulator.set_faults(FaultConfig(seed=3, error_rate=0.5, error_status=503, paths=("/v2/reports",)))
    client = make_client(simulator)
    for _ in range(6):
        assert client.list_reports(simulator.api_key, ["SUCCESS"]) == []
    assert 503 in statuses(simulator, "/v2/reports")
    assert statuses(simulator, "/v2/reports").count(200) == 6


def test_5xx_gives_up_after_max_attempts(simulator, make_client) -> None:
    simulator.set_faults(FaultConfig(error_rate=1.0, error_status=502))
    client = make_client(simulator, max_attempts=3)
    with pytest.raises(ServerError, match="502"):
        client.get_report("anything")
    assert statuses(simulator, "/v2/reports") == [502, 502, 502]


def test_connection_resets_are_retried(simulator, make_client) -> None:
    simulator.set_faults(FaultConfig(seed=1, reset_rate=0.5))
    client = make_client(simulator)
    records = list(client.iter_records("SMS", simulator.api_key, DAY, NEXT_DAY, direction="outbound"))
    assert len(records) == len(
        simulator.ground_truth(simulator.api_key, "SMS", DAY.date(), direction="outbound")
    )
    assert -1 in statuses(simulator, "/v2/reports/records")


@pytest.mark.parametrize("fault", ["slow", "timeout"])
def test_slow_and_hanging_responses_hit_the_timeout_and_are_retried(simulator, make_client, fault) -> None:
    # Timeouts with a wide margin on both sides (a healthy answer takes milliseconds; a slow or hanging
    # one takes 4 s), so a busy machine cannot turn a healthy answer into a timeout.
    if fault == "slow":
        faults = FaultConfig(seed=2, slow_rate=0.5, slow_seconds=4.0)
    else:
        faults = FaultConfig(seed=2, timeout_rate=0.5, timeout_seconds=4.0)
    simulator.set_faults(faults)
    client = make_client(simulator, read_timeout=1.5)
    for _ in range(4):
        assert client.list_reports(simulator.api_key, ["SUCCESS"]) == []


def test_pacing_avoids_429_and_a_429_is_honoured_with_retry_after(simulator, make_client) -> None:
    paced = make_client(simulator)  # production pacing: 4.5 rps async per account
    for _ in range(12):
        paced.list_reports(simulator.api_key, ["SUCCESS"])
    assert statuses(simulator, "/v2/reports") == [200] * 12

    greedy = make_client(simulator, async_requests_per_second=200.0)
    for _ in range(12):
        greedy.list_reports(simulator.api_key, ["SUCCESS"])
    assert 429 in statuses(simulator, "/v2/reports")
    assert statuses(simulator, "/v2/reports").count(200) == 24


def test_sync_pacing_stays_under_10_rps(simulator, make_client) -> None:
    client = make_client(simulator)
    ids = [
        r["message_id"]
        for r in simulator.ground_truth(simulator.api_key, "SMS", DAY.date(), direction="outbound")
    ]
    for i in range(14):
        client.get_records_by_id("SMS", simulator.api_key, ids[i : i + 1], direction="outbound")
    assert statuses(simulator, "/v2/reports/records") == [200] * 14


def test_403_rate_limit_is_read_from_the_body_by_default(simulator, make_client) -> None:
    simulator.set_faults(FaultConfig(rate_limit_status=403))
    greedy = make_client(simulator, async_requests_per_second=200.0)
    for _ in range(8):
        greedy.list_reports(simulator.api_key, ["SUCCESS"])
    assert 403 in statuses(simulator, "/v2/reports")

    strict = make_client(simulator, async_requests_per_second=200.0, rate_limit_403="never")
    with pytest.raises(AuthorizationError, match="Rate Limit"):
        for _ in range(8):
            strict.list_reports(simulator.api_key, ["SUCCESS"])


def test_rate_limited_error_after_retries_are_used_up(simulator, make_client) -> None:
    simulator.set_faults(FaultConfig(rate_limit_async_rps=1, retry_after_seconds=0))
    client = make_client(simulator, async_requests_per_second=200.0, max_attempts=1)
    with pytest.raises(RateLimited) as info:
        for _ in range(3):
            client.list_reports(simulator.api_key, ["SUCCESS"])
    assert info.value.retry_after == 0


# -- download faults ----------------------------------------------------------------------------------
@pytest.fixture
def finished_report(simulator, make_client):
    client = make_client(simulator)
    return client, wait_terminal(client, client.create_report(sms_request(simulator)).request_id)


@pytest.mark.parametrize("fault", ["truncated_download_rate", "corrupt_download_rate"])
def test_damaged_downloads_are_fetched_again(simulator, finished_report, tmp_path, fault) -> None:
    client, report = finished_report
    simulator.set_faults(FaultConfig(seed=1, **{fault: 0.5}))
    for i in range(3):
        rows = csv_rows(client.download_report(report, tmp_path / str(i)))
        assert sum(len(r) for r in rows.values()) == report.items_count
    assert len(statuses(simulator, "/v3/media")) > 3  # some downloads needed a second attempt


@pytest.mark.parametrize(
    ("fault", "error"),
    [("truncated_download_rate", DownloadInterrupted), ("corrupt_download_rate", CorruptArchive)],
)
def test_always_damaged_download_fails_with_a_download_error(
    simulator, finished_report, tmp_path, fault, error
) -> None:
    client, report = finished_report
    simulator.set_faults(FaultConfig(**{fault: 1.0}))
    with pytest.raises(error):
        client.download_report(report, tmp_path)
    assert not list(tmp_path.iterdir())  # no partial file left behind


def test_html_instead_of_zip_is_reported_as_html(simulator, finished_report, tmp_path) -> None:
    client, report = finished_report
    simulator.set_faults(FaultConfig(html_download_rate=1.0))
    with pytest.raises(UnexpectedContent, match="expected a ZIP but got HTML") as info:
        client.download_report(report, tmp_path)
    assert info.value.content_kind == "html"
    assert len(statuses(simulator, "/v3/media")) == 1  # not retried: an HTML page will not become a ZIP


def test_create_retry_after_an_ambiguous_failure_looks_up_before_posting_again(
    simulator, make_client
) -> None:
    """A POST whose answer is lost may have created a (billed) report: the retry first looks for it.

    Seed 1 makes the first request (the POST) slow, so it times out. The simulator drops the request
    when the client disconnects (it cannot yet lose an answer *after* creating), so the lookup finds
    nothing and one POST is repeated; either way exactly one report exists.
    """
    simulator.set_faults(FaultConfig(seed=1, slow_rate=0.5, slow_seconds=5.0, paths=("/v2/reports",)))
    client = make_client(
        simulator, read_timeout=1.5, backoff_initial=1.5, backoff_max=2.0, backoff_jitter=0.01
    )
    report = client.create_report(sms_request(simulator))
    assert [r["request_id"] for r in simulator.reports_created] == [report.request_id]
    # The server logs a request when it answers; the timed-out POST never got an answer, so what is logged is
    # the lookup and then the one POST that created the report.
    calls = [(m, p) for m, p, _ in simulator.request_log if p == "/v2/reports"]
    assert calls[-2:] == [("GET", "/v2/reports"), ("POST", "/v2/reports")]


@pytest.mark.parametrize("cap", ["max_download_bytes", "max_uncompressed_bytes"])
def test_size_caps_stop_a_download(simulator, make_client, tmp_path, cap) -> None:
    client = make_client(simulator)
    report = wait_terminal(client, client.create_report(sms_request(simulator)).request_id)
    capped = make_client(simulator, **{cap: 200})
    with pytest.raises(DownloadTooLarge, match="cap"):
        capped.download_report(report, tmp_path)
    assert not list(tmp_path.iterdir())
    assert capped.cdrs_retrieved == 0


def test_errors_survive_pickling_without_losing_fields() -> None:
    import pickle

    err = UnexpectedContent("expected a ZIP but got HTML", content_kind="html", status=200)
    copy = pickle.loads(pickle.dumps(err))
    assert (type(copy), str(copy), copy.content_kind, copy.status) == (
        UnexpectedContent,
        str(err),
        "html",
        200,
    )

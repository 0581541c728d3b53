"""Both offset styles Vonage uses, plus the odd ones, must land on the same aware UTC instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from include.vonage_cdr.client.models import Report, to_int
from include.vonage_cdr.client.timestamps import (
    coerce_datetime,
    format_vonage_timestamp,
    parse_vonage_timestamp,
)

INSTANT = datetime(2020, 6, 4, 12, 21, 35, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2020-06-04T12:21:35+0000",
        "2020-06-04T12:21:35+00:00",
        "2020-06-04T12:21:35Z",
        "2020-06-04T12:21:35-0000",
        "2020-06-04T14:21:35+0200",
        "2020-06-04T07:21:35-05:00",
        "2020-06-04 12:21:35",
        "1591273295000",
    ],
)
def test_every_offset_style_gives_the_same_utc_instant(text: str) -> None:
    parsed = parse_vonage_timestamp(text)
    assert parsed == INSTANT
    assert parsed.utcoffset() == timedelta(0)


def test_milliseconds_are_kept() -> None:
    assert parse_vonage_timestamp("2025-04-01T23:55:06.123+00:00").microsecond == 123000
    assert parse_vonage_timestamp(1591273295123) == INSTANT.replace(microsecond=123000)


def test_garbage_is_rejected_with_the_value_named() -> None:
    with pytest.raises(ValueError, match="yesterday"):
        parse_vonage_timestamp("yesterday")


def test_requests_are_formatted_in_utc_with_z() -> None:
    cet = timezone(timedelta(hours=1))
    assert format_vonage_timestamp(datetime(2026, 11, 20, 1, 0, tzinfo=cet)) == "2026-11-20T00:00:00Z"
    assert format_vonage_timestamp(datetime(2026, 11, 20)) == "2026-11-20T00:00:00Z"


def test_airflow_template_dates_are_accepted() -> None:
    assert coerce_datetime("2026-11-19") == datetime(2026, 11, 19, tzinfo=UTC)
    assert coerce_datetime("2026-11-19T00:00:00+00:00") == datetime(2026, 11, 19, tzinfo=UTC)


def test_numbers_sent_as_strings_are_parsed() -> None:
    assert to_int("2274") == 2274
    assert to_int("") is None
    assert to_int(None) is None
    report = Report.from_json(
        {
            "request_id": "r1",
            "request_status": "SUCCESS",
            "items_count": "14952",
            "include_subaccounts": "false",
            "date_start": "2024-02-27T00:00:00+0000",
            "date_end": "2024-02-28T00:00:00+00:00",
            "_links": {"download_report": {"href": "https://api.nexmo.com/v3/media/abc"}},
        }
    )
    assert report.items_count == 14952
    assert report.include_subaccounts is False
    assert report.date_end - report.date_start == timedelta(days=1)
    assert report.download_url == "https://api.nexmo.com/v3/media/abc"


def test_the_other_report_schema_is_tolerated() -> None:
    """One portal snapshot nests request params and says status/download_url.

    docs/vonage-reports-api.md, open question 4.
    """
    report = Report.from_json(
        {
            "request_id": "r2",
            "status": "success",
            "download_url": "https://api.nexmo.com/v3/media/x",
            "request_params": {"product": "SMS", "account_id": "abcd1234", "direction": "outbound"},
        }
    )
    assert (report.request_status, report.product, report.direction) == ("SUCCESS", "SMS", "outbound")
    assert report.download_url == "https://api.nexmo.com/v3/media/x"

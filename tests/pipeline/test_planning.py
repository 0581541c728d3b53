"""The day a daily run loads is explicit and right for scheduled, backfill, manual and dateless runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from include.vonage_cdr.planning import (
    RetentionExceeded,
    check_retention,
    plan_partitions,
    resolve_days,
    settlement_target,
)
from include.vonage_cdr.settings import Settings, SettingsError

DELAY = timedelta(hours=2)


def test_scheduled_backfill_and_manual_runs_load_their_logical_day() -> None:
    # CronDataIntervalTimetable: the run for 2026-11-20 has logical date 2026-11-20T00:00Z
    # and runs at 2026-11-21T00:00Z; a backfill run for that day carries the same interval.
    days = resolve_days(
        explicit_day=None,
        logical_date=datetime(2026, 11, 20, tzinfo=UTC),
        run_after=datetime(2026, 11, 21, tzinfo=UTC),
        is_scheduled=True,
        settlement_delay=DELAY,
    )
    assert days == [date(2026, 11, 20)]


def test_dateless_run_loads_the_last_settled_day() -> None:
    common = {
        "explicit_day": None,
        "logical_date": None,
        "is_scheduled": False,
        "settlement_delay": DELAY,
    }
    assert resolve_days(run_after=datetime(2026, 11, 22, 3, 0, tzinfo=UTC), **common) == [date(2026, 11, 21)]
    # Before the settlement delay has passed after midnight, yesterday is not settled yet.
    assert resolve_days(run_after=datetime(2026, 11, 22, 1, 0, tzinfo=UTC), **common) == [date(2026, 11, 20)]


def test_explicit_day_wins_over_everything() -> None:
    days = resolve_days(
        explicit_day="2026-10-01",
        logical_date=datetime(2026, 11, 20, tzinfo=UTC),
        run_after=datetime(2026, 11, 21, tzinfo=UTC),
        is_scheduled=True,
        settlement_delay=DELAY,
        reload_lags_days=(1, 3),
    )
    assert days == [date(2026, 10, 1)]


def test_reload_lags_reload_older_days_only_on_scheduled_runs() -> None:
    kwargs = {
        "explicit_day": None,
        "logical_date": datetime(2026, 11, 20, tzinfo=UTC),
        "run_after": datetime(2026, 11, 21, tzinfo=UTC),
        "settlement_delay": DELAY,
        "reload_lags_days": (1, 3),
    }
    assert resolve_days(is_scheduled=True, **kwargs) == [date(2026, 11, 20), date(2026, 11, 18)]
    assert resolve_days(is_scheduled=False, **kwargs) == [date(2026, 11, 20)]


def test_settlement_target_is_end_of_day_plus_delay() -> None:
    assert settlement_target(date(2026, 11, 20), DELAY) == datetime(2026, 11, 21, 2, tzinfo=UTC)


def test_partitions_split_directions_only_where_the_product_requires_one() -> None:
    parts = plan_partitions(
        [date(2026, 11, 20)], ["SMS", "VOICE-CALL", "VIDEO-API"], ["abcd1234", "subacct1"]
    )
    keys = {(p.product, p.account_id, p.direction) for p in parts}
    assert keys == {
        ("SMS", "abcd1234", "inbound"),
        ("SMS", "abcd1234", "outbound"),
        ("SMS", "subacct1", "inbound"),
        ("SMS", "subacct1", "outbound"),
        ("VOICE-CALL", "abcd1234", None),
        ("VOICE-CALL", "subacct1", None),
        ("VIDEO-API", "abcd1234", None),
        ("VIDEO-API", "subacct1", None),
    }
    kwargs = parts[0].to_report_kwargs()
    assert kwargs["date_start"] == "2026-11-20T00:00:00+00:00"
    assert kwargs["date_end"] == "2026-11-21T00:00:00+00:00"


def test_days_beyond_retention_are_refused_with_a_clear_message() -> None:
    today = date(2026, 11, 22)
    video_old = plan_partitions([today - timedelta(days=120)], ["VIDEO-API", "SMS"], ["abcd1234"])
    with pytest.raises(RetentionExceeded, match=r"VIDEO-API .*retention 90 days"):
        check_retention(video_old, today)
    # The same day is fine for SMS, kept for 13 months.
    check_retention([p for p in video_old if p.product == "SMS"], today)
    with pytest.raises(RetentionExceeded, match="SMS"):
        check_retention(plan_partitions([today - timedelta(days=400)], ["SMS"], ["abcd1234"]), today)


def test_settings_from_env_parse_and_reject_bad_values() -> None:
    s = Settings.from_env(
        {"CDR_PRODUCTS": "sms, voice-call", "CDR_RELOAD_LAGS_DAYS": "3,1", "CDR_SYNC_OVERLAP_MINUTES": "2"}
    )
    assert s.products == ("SMS", "VOICE-CALL")
    assert s.sync_products == ("SMS", "VOICE-CALL")
    assert s.reload_lags_days == (1, 3)
    assert s.sync_overlap == timedelta(minutes=2)
    with pytest.raises(SettingsError, match="CDR_RELOAD_LAGS_DAYS"):
        Settings.from_env({"CDR_RELOAD_LAGS_DAYS": "0"})
    with pytest.raises(SettingsError, match="24 hours"):
        Settings.from_env({"CDR_SYNC_MAX_WINDOW_MINUTES": "2000"})

"""The day a daily run loads is explicit and right for scheduled, backfill, manual and dateless runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from include.vonage_cdr.planning import (
    DAY_RULE,
    DayNotEnded,
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


def test_the_trigger_forms_default_of_now_loads_the_last_settled_day_not_today() -> None:
    # The UI's Trigger form fills the logical date with the moment of the click.
    common = {"explicit_day": None, "is_scheduled": False, "settlement_delay": DELAY}
    clicked = datetime(2026, 11, 30, 15, 29, tzinfo=UTC)
    assert resolve_days(logical_date=clicked, run_after=clicked, **common) == [date(2026, 11, 29)]
    # Before yesterday has settled (00:00-02:00), the day before: never a wait for a day still open.
    early = datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert resolve_days(logical_date=early, run_after=early, **common) == [date(2026, 11, 28)]


def test_a_run_for_a_past_date_loads_that_date_and_a_retry_days_later_loads_it_again() -> None:
    common = {"explicit_day": None, "is_scheduled": False, "settlement_delay": DELAY}
    created = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    for_the_14th = datetime(2026, 11, 14, tzinfo=UTC)
    assert resolve_days(logical_date=for_the_14th, run_after=created, **common) == [date(2026, 11, 14)]
    # run_after is fixed when the run is created: clearing a "now" run two days later changes nothing.
    assert resolve_days(logical_date=created, run_after=created, **common) == [date(2026, 11, 29)]


def test_an_explicit_day_that_has_not_ended_fails_with_when_it_can_load() -> None:
    with pytest.raises(DayNotEnded, match=r"2026-11-30 has not ended.*2026-12-01T02:00:00\+00:00"):
        resolve_days(
            explicit_day="2026-11-30",
            logical_date=None,
            run_after=datetime(2026, 11, 30, 9, tzinfo=UTC),
            is_scheduled=False,
            settlement_delay=DELAY,
            now=datetime(2026, 11, 30, 23, 59, tzinfo=UTC),
        )


def test_the_rule_is_stated_once_in_the_code_the_param_and_the_dag_docs() -> None:
    import re

    from include.vonage_cdr import planning

    def words(text: str) -> str:
        return re.sub(r"\s+", " ", text)

    assert words(DAY_RULE) in words(planning.__doc__ or "")
    assert words(DAY_RULE) in words(planning.resolve_days.__doc__ or "") or ":data:`DAY_RULE`" in (
        planning.resolve_days.__doc__ or ""
    )
    from tests.dags.pipeline_harness import load_dag

    dag = load_dag("vonage_cdr_daily.py")
    assert dag.params.get_param("day").description == DAY_RULE
    assert words(DAY_RULE) in words(dag.doc_md)
    assert "data interval" not in dag.doc_md
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert words(DAY_RULE) in words(readme)


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


@pytest.mark.parametrize(
    ("today", "oldest"),
    [
        (date(2026, 3, 15), date(2025, 2, 15)),  # 396 days would still ask for 2025-02-12..14
        (date(2026, 3, 31), date(2025, 2, 28)),  # no 31 February: the month's last day
        (date(2025, 3, 29), date(2024, 2, 29)),  # a leap day exists in 2024
        (date(2028, 3, 29), date(2027, 2, 28)),  # and not in 2027
        (date(2026, 1, 31), date(2024, 12, 31)),  # across the year
        (date(2026, 11, 22), date(2025, 10, 22)),
    ],
)
def test_retention_is_13_calendar_months_as_vonage_counts(today: date, oldest: date) -> None:
    from include.vonage_cdr.planning import oldest_loadable_day
    from include.vonage_cdr.products import get_product

    assert oldest_loadable_day(get_product("SMS"), today) == oldest
    check_retention(plan_partitions([oldest], ["SMS", "MESSAGES"], ["abcd1234"]), today)
    with pytest.raises(
        RetentionExceeded, match=rf"SMS {oldest - timedelta(days=1)} \(retention 13 calendar months"
    ):
        check_retention(plan_partitions([oldest - timedelta(days=1)], ["SMS"], ["abcd1234"]), today)


@pytest.mark.parametrize("today", [date(2026, 3, 1), date(2028, 2, 29), date(2026, 12, 31)])
def test_video_api_keeps_90_days_and_agrees_with_the_simulator(today: date) -> None:
    from include.simulator.generate import retention_floor
    from include.vonage_cdr.planning import oldest_loadable_day
    from include.vonage_cdr.products import get_product

    as_of = datetime.combine(today, datetime.min.time(), tzinfo=UTC) + timedelta(hours=12)
    assert oldest_loadable_day(get_product("VIDEO-API"), today) == today - timedelta(days=90)
    for product in ("VIDEO-API", "SMS", "VOICE-CALL"):
        assert oldest_loadable_day(get_product(product), today) == retention_floor(product, as_of), product


def test_file_limits_come_from_the_environment_and_stay_within_the_workers_memory() -> None:
    from include.vonage_cdr.normalize.limits import ReadLimits, physical_memory_bytes

    s = Settings.from_env(
        {
            "CDR_MAX_RECORD_BYTES": "65536",
            "CDR_MAX_DECOMPRESSED_BYTES": "1000000",
            "CDR_MAX_COMPRESSION_RATIO": "50",
        }
    )
    assert (s.max_record_bytes, s.max_decompressed_bytes, s.max_compression_ratio) == (65536, 1_000_000, 50.0)
    assert Settings.from_env({}).max_record_bytes == 1024 * 1024
    with pytest.raises(SettingsError, match="CDR_MAX_RECORD_BYTES"):
        Settings.from_env({"CDR_MAX_RECORD_BYTES": "10"})
    memory = physical_memory_bytes()
    assert memory is not None
    with pytest.raises(ValueError, match="1/64 of this worker's memory"):
        ReadLimits(max_record_bytes=memory // 32)

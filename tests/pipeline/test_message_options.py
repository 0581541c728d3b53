"""Message bodies and concatenation flags are asked for only when configured and where Vonage takes them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from include.vonage_cdr.daily_load import _request_from
from include.vonage_cdr.planning import message_options, plan_partitions
from include.vonage_cdr.products import get_product
from include.vonage_cdr.settings import Settings, SettingsError

DAY = date(2026, 11, 18)


@pytest.mark.parametrize(
    ("product", "direction", "expected"),
    [
        ("SMS", "outbound", (True, True)),
        ("SMS", "inbound", (True, False)),  # show_concatenated is for outbound SMS only
        ("MESSAGES", "outbound", (True, False)),
        ("MESSAGES", "inbound", (True, False)),
        ("VOICE-CALL", None, (False, False)),  # would be refused with a 422
        ("VIDEO-API", None, (False, False)),
    ],
)
def test_each_product_gets_only_the_options_it_accepts(
    product: str, direction: str | None, expected: tuple[bool, bool]
) -> None:
    assert (
        message_options(get_product(product), direction, include_message=True, show_concatenated=True)
        == expected
    )
    assert message_options(
        get_product(product), direction, include_message=False, show_concatenated=False
    ) == (
        False,
        False,
    )


def test_the_plan_passes_them_to_the_report_operator_and_leaves_default_plans_unchanged() -> None:
    on = {
        (p.product, p.direction): p.to_report_kwargs()
        for p in plan_partitions(
            [DAY], ["SMS", "VOICE-CALL"], ["abcd1234"], include_message=True, show_concatenated=True
        )
    }
    assert on[("SMS", "outbound")]["include_message"] is True
    assert on[("SMS", "outbound")]["filters"] == {"show_concatenated": "true"}
    assert on[("SMS", "inbound")]["include_message"] is True and "filters" not in on[("SMS", "inbound")]
    assert "include_message" not in on[("VOICE-CALL", None)] and "filters" not in on[("VOICE-CALL", None)]
    for part in plan_partitions([DAY], ["SMS", "MESSAGES"], ["abcd1234"]):
        kwargs = part.to_report_kwargs()
        assert "include_message" not in kwargs and "filters" not in kwargs


def test_a_replacement_report_repeats_the_options() -> None:
    report = {
        "product": "SMS",
        "account_id": "abcd1234",
        "direction": "outbound",
        "date_start": "2026-11-18T00:00:00Z",
        "date_end": "2026-11-19T00:00:00Z",
    }
    req = _request_from(report, include_message=True, show_concatenated=True)
    assert req.include_message is True and req.filters == {"show_concatenated": "true"}
    body = req.to_body()
    assert body["include_message"] is True and body["show_concatenated"] == "true"
    plain = _request_from(report)
    assert plain.include_message is False and plain.filters == {}


def test_settings_are_off_by_default_and_read_from_the_environment(tmp_path: Path) -> None:
    default = Settings.from_env({})
    assert (default.include_message, default.show_concatenated) == (False, False)
    assert default.report_days == 30 and default.report_dir.name == "reports"
    on = Settings.from_env(
        {
            "CDR_INCLUDE_MESSAGE": "true",
            "CDR_SHOW_CONCATENATED": "yes",
            "CDR_REPORT_DIR": str(tmp_path),
            "CDR_REPORT_DAYS": "7",
        }
    )
    assert (on.include_message, on.show_concatenated, on.report_dir, on.report_days) == (
        True,
        True,
        tmp_path,
        7,
    )
    with pytest.raises(SettingsError, match="not a boolean"):
        Settings.from_env({"CDR_INCLUDE_MESSAGE": "maybe"})
    with pytest.raises(SettingsError, match="CDR_REPORT_DAYS"):
        Settings.from_env({"CDR_REPORT_DAYS": "0"})

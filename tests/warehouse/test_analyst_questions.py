"""The analysts' questions, answered by the views on simulator data, equal the simulator's ground truth.

Each expectation is computed here from the simulator's records with rules written out in this file
(feature meanings, status classes, currency defaults, rounding), independently of the SQL under test.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from include.simulator import SimClock, Simulator, SimulatorConfig
from tests.fixtures.warehouse import MigratedWarehouse
from tests.warehouse.simulated_day import SimulatedDay, load_simulated_day

CLOCK = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
DAYS = (date(2026, 11, 17), date(2026, 11, 18))
PRICE_PER_CDR = Decimal("0.0004")

#: what each Video API event means (the usage documentation's event types and the SDK's three extra ones)
VIDEO_FEATURES = {
    "Video Session": "video_session",
    "Subscriber minutes": "subscriber_minutes",
    "SIP_Interconnect": "sip_interconnect",
    "Audio_Connector": "audio_connector",
    "Live_Captions": "live_captions",
    "Archiving": "archiving",
    "Broadcasting": "broadcasting",
    "HLS": "hls",
    "Experience composer": "experience_composer",
}
SMS_OUTCOME = {
    "delivered": "delivered",
    **dict.fromkeys(("expired", "failed", "rejected", "deleted"), "failed"),
    **dict.fromkeys(("accepted", "buffered", "submitted"), "pending"),
}
MESSAGES_OUTCOME = {
    **dict.fromkeys(("delivered", "read"), "delivered"),
    **dict.fromkeys(("rejected", "undeliverable"), "failed"),
    "submitted": "pending",
}


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def rows(dsn: str, query: str, params: Any = None) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture
def frozen_simulator(simulator_factory: Callable[[SimulatorConfig], Simulator]) -> Simulator:
    return simulator_factory(SimulatorConfig(clock=SimClock(start=CLOCK, rate=0)))


@pytest.fixture
def load(
    frozen_simulator: Simulator, migrated_warehouse: MigratedWarehouse, tmp_path: Path
) -> Callable[[list[str]], list[SimulatedDay]]:
    def run(products: list[str]) -> list[SimulatedDay]:
        return [
            load_simulated_day(frozen_simulator, migrated_warehouse.dsn, products, day, tmp_path / str(day))
            for day in DAYS
        ]

    return run


def test_video_minutes_and_cost_per_feature_day_project_and_session_equal_the_events(
    load: Callable[[list[str]], list[SimulatedDay]], migrated_warehouse: MigratedWarehouse
) -> None:
    loaded = load(["VIDEO-API"])
    daily: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    by_session: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for part in loaded:
        for rec in part.records("VIDEO-API"):
            feature = VIDEO_FEATURES[rec["feature_name"]]
            seconds = int(rec["duration"]) if rec["duration"] else 0  # a Video Session has none: 0 minutes
            for key, totals in (
                ((part.day, rec["account_id"], rec["application_id"], feature, rec["currency"]), daily),
                (
                    (part.day, rec["account_id"], rec["application_id"], rec["session_id"], feature),
                    by_session,
                ),
            ):
                totals[key][0] += 1
                totals[key][1] += seconds
                totals[key][2] += Decimal(rec["total_price"])
    assert {key[3] for key in daily} == set(VIDEO_FEATURES.values()), (
        "the simulator must produce every feature"
    )

    dsn = migrated_warehouse.dsn
    actual_daily = {
        (day, account, project, feature, currency): [events, seconds, exact]
        for day, account, project, feature, currency, events, seconds, exact, _, _ in rows(
            dsn,
            """SELECT usage_date, account_id, project_id, feature, currency, event_count, usage_seconds,
                      total_cost_exact, usage_minutes, total_cost FROM analytics.video_usage_daily""",
        )
    }
    assert actual_daily == dict(daily)
    actual_sessions = {
        (day, account, project, session, feature): [events, seconds, exact]
        for day, account, project, session, feature, events, seconds, exact in rows(
            dsn,
            """SELECT usage_date, account_id, project_id, session_id, feature, event_count, usage_seconds,
                      total_cost_exact FROM analytics.video_usage_by_session""",
        )
    }
    assert actual_sessions == dict(by_session)

    # The question an analyst asks: minutes and cost per feature over the whole period, rolled up as the
    # dictionary says (seconds summed then / 60; exact cost summed then rounded once).
    per_feature: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for (_, _, _, feature, _), (_, seconds, cost) in daily.items():
        per_feature[feature][0] += seconds
        per_feature[feature][1] += cost
    expected = {f: (cents(Decimal(s) / 60), cents(c)) for f, (s, c) in per_feature.items()}
    answered = {
        feature: (minutes, cost)
        for feature, minutes, cost in rows(
            dsn,
            """SELECT feature, round(sum(usage_seconds) / 60.0, 2),
                      analytics.round_money(sum(total_cost_exact), 'USD')
               FROM analytics.video_usage_daily GROUP BY feature""",
        )
    }
    assert answered == expected
    assert expected["video_session"] == (Decimal("0.00"), Decimal("0.00"))
    assert all(minutes > 0 for feature, (minutes, _) in expected.items() if feature != "video_session")
    meetings = sum(n for (_, _, _, feature, _), (n, _, _) in daily.items() if feature == "video_session")
    assert rows(
        dsn, "SELECT sum(event_count) FROM analytics.video_usage_daily WHERE feature = 'video_session'"
    ) == [(meetings,)]


def test_delivery_spend_per_country_and_account_and_the_invoice_equal_the_records(
    load: Callable[[list[str]], list[SimulatedDay]], migrated_warehouse: MigratedWarehouse
) -> None:
    loaded = load(["SMS", "MESSAGES", "NUMBER-INSIGHT", "VOICE-CALL"])
    dsn = migrated_warehouse.dsn

    # Delivery per day, product, channel and country, and over everything (sum the counts, then divide).
    delivery: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for part in loaded:
        for product, outcomes in (("SMS", SMS_OUTCOME), ("MESSAGES", MESSAGES_OUTCOME)):
            for rec in part.truth[(product, "outbound")]:
                channel = "sms" if product == "SMS" else rec["provider"]
                counts = delivery[(part.day, product, channel, rec["country"] or None)]
                counts[0] += 1
                outcome = outcomes.get(rec["status"].lower(), "other")
                counts[["delivered", "failed", "pending", "other"].index(outcome) + 1] += 1
    assert delivery, "the simulator must send outbound messages"
    assert {
        (d, p, ch, c): [n, dl, f, pe, o]
        for d, p, ch, c, n, dl, f, pe, o in rows(
            dsn,
            """SELECT usage_date, product, channel, country, message_count, delivered_count, failed_count,
                      pending_count, other_count FROM analytics.delivery_rates_daily""",
        )
    } == dict(delivery)
    sent = sum(c[0] for c in delivery.values())
    delivered = sum(c[1] for c in delivery.values())
    assert rows(
        dsn,
        "SELECT sum(delivered_count), sum(message_count) FROM analytics.delivery_rates_hourly",
    ) == [(delivered, sent)]

    # Spend per country (and per account), each currency on its own; empty currencies are the account's EUR.
    spend: dict[tuple, Decimal] = defaultdict(Decimal)
    per_account: dict[tuple, Decimal] = defaultdict(Decimal)
    assumed: dict[str, int] = defaultdict(int)
    for part in loaded:
        for (product, _), records in part.truth.items():
            for rec in records:
                currency = rec.get("currency") or "EUR"
                assumed[product] += not rec.get("currency")
                spend[(product, rec.get("country") or None, currency)] += Decimal(rec["total_price"])
                per_account[(rec["account_id"], currency)] += Decimal(rec["total_price"])
    country_answer = rows(
        dsn,
        """SELECT product, country, currency, sum(total_cost_exact),
                  analytics.round_money(sum(total_cost_exact), currency)
           FROM analytics.billing_by_country_daily GROUP BY 1, 2, 3""",
    )
    assert {(p, c, cur): exact for p, c, cur, exact, _ in country_answer} == dict(spend)
    assert all(rounded == cents(exact) for *_, exact, rounded in country_answer)
    assert {
        (account, currency): exact
        for account, currency, exact in rows(
            dsn,
            "SELECT account_id, currency, total_cost_exact FROM analytics.billing_by_account_monthly",
        )
    } == dict(per_account)

    # The invoice: one line per product and currency, no NULL currency, the Reports API on its own line.
    lines = rows(
        dsn,
        """SELECT charge_type, line_item, currency, cdr_count, assumed_currency_cdr_count, total_cost,
                  total_cost_exact FROM analytics.invoice_reconciliation_monthly""",
    )
    keys = [(line_item, currency) for _, line_item, currency, *_ in lines]
    assert len(keys) == len(set(keys)) and all(currency for _, currency in keys)
    usage = {(item, cur): (n, a, exact) for kind, item, cur, n, a, _, exact in lines if kind == "usage"}
    by_product: dict[tuple, list] = defaultdict(lambda: [0, 0, Decimal(0)])
    for (product, _, currency), amount in spend.items():
        by_product[(product, currency)][2] += amount
    for part in loaded:
        for (product, _), records in part.truth.items():
            for rec in records:
                by_product[(product, rec.get("currency") or "EUR")][0] += 1
    for (product, currency), entry in by_product.items():
        entry[1] = assumed[product] if currency == "EUR" else 0
    assert usage == {key: tuple(value) for key, value in by_product.items()}
    assert usage[("NUMBER-INSIGHT", "EUR")][1] == usage[("NUMBER-INSIGHT", "EUR")][0] > 0
    [api] = [line for line in lines if line[0] == "reports_api"]
    billed = sum(part.cdrs_billed for part in loaded)
    assert api[1:5] == ("REPORTS-API", "EUR", billed, 0)
    assert api[6] == billed * PRICE_PER_CDR and api[5] == cents(billed * PRICE_PER_CDR)

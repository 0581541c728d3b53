"""Analyst views return known figures on hand-made rows; the analyst role reads and cannot write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.fixtures.warehouse import MigratedWarehouse

# A fixed, completed month whatever today is; the fixture creates its partitions explicitly.
MONTH = datetime(2026, 10, 1, tzinfo=UTC)
D1 = MONTH + timedelta(days=4)
D2 = MONTH + timedelta(days=5)


def at(day: datetime, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return day.replace(hour=hour, minute=minute)


def insert(conn: psycopg.Connection, table: str, **values: Any) -> None:
    values.setdefault("_source", "async")
    values.setdefault("_load_id", 1)
    columns = list(values)
    conn.execute(
        sql.SQL("INSERT INTO cdr.{} ({}) VALUES ({})").format(
            sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, columns)),
            sql.SQL(", ").join(sql.Placeholder() * len(columns)),
        ),
        [values[c] for c in columns],
    )


def sms(
    conn: psycopg.Connection, id_: str, account: str, when: datetime, status: str, price: str, **kw: Any
) -> None:
    kw.setdefault("direction", "outbound")
    kw.setdefault("country", "GB")
    kw.setdefault("network", "23410")
    kw.setdefault("currency", "EUR")
    insert(
        conn,
        "sms",
        id=id_,
        message_id=id_,
        account_id=account,
        date_received=when,
        event_time=when,
        status=status,
        total_price=Decimal(price),
        **kw,
    )


def video(
    conn: psycopg.Connection,
    id_: str,
    feature: str,
    start: datetime,
    seconds: int | None,
    price: str,
    *,
    session: str = "S1",
    app: str = "app1",
    **kw: Any,
) -> None:
    """A Video API event; a Video Session has no duration (date_end = date_start) and costs nothing."""
    insert(
        conn,
        "video_api",
        id=id_,
        account_id="acctA",
        application_id=app,
        session_id=session,
        feature_name=feature,
        date_start=start,
        date_end=start + timedelta(seconds=seconds or 0),
        duration=seconds,
        total_price=Decimal(price),
        currency="USD",
        event_time=start,
        **kw,
    )


def voice(
    conn: psycopg.Connection, id_: str, account: str, when: datetime, price: str, currency: str
) -> None:
    insert(
        conn,
        "voice_call",
        id=id_,
        account_id=account,
        date_start=when,
        event_time=when,
        status="ANSWERED",
        total_price=Decimal(price),
        currency=currency,
        country="GB",
    )


def ledger(conn: psycopg.Connection, product: str, mode: str, billed: int, started_at: datetime) -> None:
    conn.execute(
        """INSERT INTO cdr.load_ledger (product, account_id, direction, mode, window_start, window_end,
               rows_read, rows_loaded, rows_inserted, rows_updated, rows_unchanged, rows_quarantined,
               cdrs_billed, started_at)
           VALUES (%s, 'acctA', 'outbound', %s, %s, %s, %s, %s, %s, 0, 0, 0, %s, %s)""",
        (product, mode, D1, D2, billed, billed, billed, billed, started_at),
    )


@pytest.fixture
def warehouse_with_rows(migrated_warehouse: MigratedWarehouse) -> MigratedWarehouse:
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        conn.execute("SELECT cdr.ensure_partitions(%s, %s)", (MONTH, MONTH + timedelta(days=40)))
        sms(conn, "s1", "acctA", at(D1, "10:05"), "delivered", "0.0333")
        sms(conn, "s2", "acctA", at(D1, "10:20"), "failed", "0.0333")
        sms(conn, "s3", "acctA", at(D1, "10:40"), "accepted", "0.0333")
        sms(
            conn,
            "s4",
            "acctB",
            at(D1, "11:00"),
            "delivered",
            "0.0079",
            country="US",
            network="310260",
            currency="USD",
        )
        sms(conn, "s5", "acctA", at(D2, "09:00"), "unknown", "0.0333")
        sms(conn, "s6", "acctA", at(D1, "12:00"), "delivered", "0", direction="inbound")
        for id_, status, hhmm in (("m1", "read", "10:30"), ("m2", "undeliverable", "10:45")):
            when = at(D1, hhmm)
            insert(
                conn,
                "messages",
                id=id_,
                account_id="acctA",
                direction="outbound",
                provider="whatsapp",
                country="GB",
                network="23410",
                status=status,
                total_price=Decimal("0.0100"),
                currency="EUR",
                date_received=when,
                event_time=when,
            )
        voice(conn, "v1", "acctA", at(D1, "13:00"), "1.2000", "EUR")
        voice(conn, "v2", "acctC", at(D1, "13:10"), "12.6", "JPY")  # no minor unit: 13
        voice(conn, "v3", "acctC", at(D1, "13:20"), "0.12345", "KWD")  # 3 decimals: 0.123
        insert(
            conn,
            "voice_failed",
            id="f1",
            account_id="acctA",
            date_start=at(D1, "13:05"),
            event_time=at(D1, "13:05"),
            status="FAILED",
        )
        # NUMBER-INSIGHT records carry an empty currency: priced in the billing currency (EUR).
        insert(
            conn,
            "number_insight",
            id="n1",
            account_id="acctA",
            date_received=at(D1, "15:00"),
            event_time=at(D1, "15:00"),
            country="GB",
            total_price=Decimal("0.03"),
            currency="",
        )
        insert(
            conn,
            "reports_usage",
            id="r1",
            account_id="acctA",
            date_received=at(D2, "06:00"),
            event_time=at(D2, "06:00"),
            items_written=1000,
            is_charged=True,
            total_price=Decimal("0.4000"),
            currency="EUR",
        )
        video(conn, "e1", "Video Session", at(D1, "10:00"), None, "0", meeting_id="M1")
        video(conn, "e2", "Video Session", at(D1, "14:00"), None, "0", meeting_id="M2")
        video(conn, "e3", "Subscriber minutes", at(D1, "10:05"), 600, "0.0395", subscriber_id="sub1")
        video(conn, "e4", "Subscriber minutes", at(D1, "14:01"), 300, "0.01975", subscriber_id="sub2")
        video(conn, "e5", "Archiving", at(D1, "10:10"), 120, "0.0050", archive_id="ar1")
        video(conn, "e6", "SIP_Interconnect", at(D1, "11:00"), 90, "0.0060", session="S2", app="app2")
        video(conn, "e7", "Some_New_Feature", at(D1, "11:30"), 30, "0.0010", session="S2", app="app2")
        ledger(conn, "SMS", "async", 1000, at(D2, "06:00"))
        ledger(conn, "SMS", "sync", 250, at(D2, "06:00"))
        ledger(conn, "MESSAGES", "async", 500, at(D2, "06:00"))
        conn.execute(
            """INSERT INTO cdr.freshness (product, account_id, direction, mode, newest_event_at, checked_at,
                   lag_seconds) VALUES ('SMS', 'acctA', 'outbound', 'sync', now() - interval '10 minutes',
                   now() - interval '9 minutes', 60)"""
        )
    return migrated_warehouse


def rows(dsn: str, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def test_cross_product_view_holds_every_record_with_nulls_where_a_product_lacks_a_column(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    dsn = warehouse_with_rows.dsn
    counts = dict(rows(dsn, "SELECT product, count(*) FROM analytics.cdr GROUP BY 1"))
    assert counts == {
        "SMS": 6,
        "MESSAGES": 2,
        "VOICE-CALL": 3,
        "VOICE-FAILED": 1,
        "NUMBER-INSIGHT": 1,
        "REPORTS-USAGE": 1,
        "VIDEO-API": 7,
    }
    assert rows(dsn, "SELECT price, currency, status FROM analytics.cdr WHERE product = 'VOICE-FAILED'") == [
        (None, None, "FAILED")
    ]
    assert rows(dsn, "SELECT DISTINCT direction, country FROM analytics.cdr WHERE product = 'VIDEO-API'") == [
        (None, None)
    ]


def test_billing_rounds_money_to_each_currency_and_keeps_the_exact_sum_beside_it(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    dsn = warehouse_with_rows.dsn
    daily = rows(
        dsn,
        """SELECT usage_date, account_id, currency, cdr_count, total_cost::text, total_cost_exact
           FROM analytics.billing_daily WHERE product = 'SMS' ORDER BY 1, 2""",
    )
    assert daily == [
        (D1.date(), "acctA", "EUR", 4, "0.10", Decimal("0.0999")),
        (D1.date(), "acctB", "USD", 1, "0.01", Decimal("0.0079")),
        (D2.date(), "acctA", "EUR", 1, "0.03", Decimal("0.0333")),
    ]
    monthly = rows(
        dsn,
        """SELECT account_id, product, currency, cdr_count, priced_cdr_count, assumed_currency_cdr_count,
                  total_cost::text, total_cost_exact
           FROM analytics.billing_monthly WHERE usage_month = %s ORDER BY 1, 2, 3""",
        (MONTH.date(),),
    )
    assert monthly == [
        ("acctA", "MESSAGES", "EUR", 2, 2, 0, "0.02", Decimal("0.0200")),
        ("acctA", "NUMBER-INSIGHT", "EUR", 1, 1, 1, "0.03", Decimal("0.03")),
        ("acctA", "REPORTS-USAGE", "EUR", 1, 1, 0, "0.40", Decimal("0.4000")),
        ("acctA", "SMS", "EUR", 5, 5, 0, "0.13", Decimal("0.1332")),
        ("acctA", "VIDEO-API", "USD", 7, 7, 0, "0.07", Decimal("0.07125")),
        ("acctA", "VOICE-CALL", "EUR", 1, 1, 0, "1.20", Decimal("1.2000")),
        ("acctA", "VOICE-FAILED", "EUR", 1, 0, 1, None, None),
        ("acctB", "SMS", "USD", 1, 1, 0, "0.01", Decimal("0.0079")),
        ("acctC", "VOICE-CALL", "JPY", 1, 1, 0, "13", Decimal("12.6")),
        ("acctC", "VOICE-CALL", "KWD", 1, 1, 0, "0.123", Decimal("0.12345")),
    ]
    # Rolling the daily rows up the documented way gives the monthly figure, rounding once at the end.
    assert rows(
        dsn,
        """SELECT analytics.round_money(sum(total_cost_exact), 'EUR')::text, sum(total_cost)::text
           FROM analytics.billing_daily WHERE product = 'SMS' AND currency = 'EUR'""",
    ) == [("0.13", "0.13")]


def test_billing_by_country_and_by_account(warehouse_with_rows: MigratedWarehouse) -> None:
    dsn = warehouse_with_rows.dsn
    assert rows(
        dsn,
        """SELECT country, currency, sum(cdr_count)::int,
                  analytics.round_money(sum(total_cost_exact), currency)
           FROM analytics.billing_by_country_daily WHERE usage_date = %s AND account_id = 'acctA'
           GROUP BY 1, 2 ORDER BY 1, 2""",
        (D1.date(),),
    ) == [
        ("GB", "EUR", 8, Decimal("1.35")),  # 4 SMS, 2 Messages, 1 call, 1 Number Insight: 1.3499
        (None, "EUR", 1, None),  # VOICE-FAILED: no country, no price
        (None, "USD", 7, Decimal("0.07")),  # VIDEO-API has no country
    ]
    assert rows(
        dsn,
        """SELECT account_id, currency, cdr_count, total_cost FROM analytics.billing_by_account_monthly
           WHERE usage_month = %s ORDER BY 1, 2""",
        (MONTH.date(),),
    ) == [
        ("acctA", "EUR", 11, Decimal("1.78")),
        ("acctA", "USD", 7, Decimal("0.07")),
        ("acctB", "USD", 1, Decimal("0.01")),
        ("acctC", "JPY", 1, Decimal("13")),
        ("acctC", "KWD", 1, Decimal("0.123")),
    ]


def test_invoice_reconciliation_has_one_line_per_product_and_currency_and_the_reports_api_on_its_own(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    dsn = warehouse_with_rows.dsn
    query = """SELECT charge_type, line_item, currency, cdr_count, assumed_currency_cdr_count,
                      total_cost::text, reports_usage_cdrs, reports_usage_cost
               FROM analytics.invoice_reconciliation_monthly WHERE invoice_month = %s ORDER BY 1 DESC, 2, 3"""
    assert rows(dsn, query, (MONTH.date(),)) == [
        ("usage", "MESSAGES", "EUR", 2, 0, "0.02", None, None),
        ("usage", "NUMBER-INSIGHT", "EUR", 1, 1, "0.03", None, None),
        ("usage", "SMS", "EUR", 5, 0, "0.13", None, None),
        ("usage", "SMS", "USD", 1, 0, "0.01", None, None),
        ("usage", "VIDEO-API", "USD", 7, 0, "0.07", None, None),
        ("usage", "VOICE-CALL", "EUR", 1, 0, "1.20", None, None),
        ("usage", "VOICE-CALL", "JPY", 1, 0, "13", None, None),
        ("usage", "VOICE-CALL", "KWD", 1, 0, "0.123", None, None),
        ("usage", "VOICE-FAILED", "EUR", 1, 1, None, None, None),
        # 1750 CDRs retrieved x 0.0004 EUR; Vonage's REPORTS-USAGE records say 1000 CDRs, 0.40 EUR.
        ("reports_api", "REPORTS-API", "EUR", 1750, 0, "0.70", 1000, Decimal("0.40")),
    ]
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE cdr.settings SET value = '0.0005' WHERE name = 'reports_api_price_per_cdr'")
    assert rows(
        dsn,
        """SELECT total_cost_exact FROM analytics.invoice_reconciliation_monthly
           WHERE invoice_month = %s AND charge_type = 'reports_api'""",
        (MONTH.date(),),
    ) == [(Decimal("0.8750"),)]


def test_delivery_rates_hold_their_counts_and_roll_up_by_summing_them(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    dsn = warehouse_with_rows.dsn
    result = rows(
        dsn,
        """SELECT hour_start, product, channel, country, network, message_count, delivered_count,
                  failed_count, pending_count, other_count, final_count, delivery_rate, failure_rate,
                  final_delivery_rate
           FROM analytics.delivery_rates_hourly ORDER BY 1, 2 DESC, 4""",
    )
    one, zero, third, half = Decimal("1.0000"), Decimal("0.0000"), Decimal("0.3333"), Decimal("0.5000")
    assert result == [
        (at(D1, "10:00"), "SMS", "sms", "GB", "23410", 3, 1, 1, 1, 0, 2, third, third, half),
        (at(D1, "10:00"), "MESSAGES", "whatsapp", "GB", "23410", 2, 1, 1, 0, 0, 2, half, half, half),
        (at(D1, "11:00"), "SMS", "sms", "US", "310260", 1, 1, 0, 0, 0, 1, one, zero, one),
        (at(D2, "09:00"), "SMS", "sms", "GB", "23410", 1, 0, 0, 0, 1, 0, zero, zero, None),
    ]
    # The trap the counts avoid: averaging the four hourly rates says 0.4583; 3 of 7 were delivered.
    [(trap, right)] = rows(
        dsn,
        """SELECT round(avg(delivery_rate), 4), round(sum(delivered_count)::numeric / sum(message_count), 4)
           FROM analytics.delivery_rates_hourly""",
    )
    assert (trap, right) == (Decimal("0.4583"), Decimal("0.4286"))
    assert rows(
        dsn,
        """SELECT usage_date, product, country, message_count, delivered_count, final_count, delivery_rate
           FROM analytics.delivery_rates_daily ORDER BY 1, 2 DESC, 3""",
    ) == [
        (D1.date(), "SMS", "GB", 3, 1, 2, third),
        (D1.date(), "SMS", "US", 1, 1, 1, one),
        (D1.date(), "MESSAGES", "GB", 2, 1, 2, half),
        (D2.date(), "SMS", "GB", 1, 0, 0, zero),
    ]


def test_video_usage_counts_meetings_and_takes_minutes_from_the_timed_features(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    dsn = warehouse_with_rows.dsn
    assert rows(
        dsn,
        """SELECT project_id, feature, event_count, usage_seconds, usage_minutes, total_cost::text
           FROM analytics.video_usage_daily WHERE usage_date = %s ORDER BY 1, 2""",
        (D1.date(),),
    ) == [
        ("app1", "archiving", 1, 120, Decimal("2.00"), "0.01"),
        ("app1", "subscriber_minutes", 2, 900, Decimal("15.00"), "0.06"),
        ("app1", "video_session", 2, 0, Decimal("0.00"), "0.00"),
        ("app2", "sip_interconnect", 1, 90, Decimal("1.50"), "0.01"),
        ("app2", "unclassified: Some_New_Feature", 1, 30, Decimal("0.50"), "0.00"),
    ]
    assert rows(
        dsn,
        """SELECT session_id, feature, event_count, usage_seconds, first_event_at, last_event_at
           FROM analytics.video_usage_by_session ORDER BY 1, 2""",
    ) == [
        ("S1", "archiving", 1, 120, at(D1, "10:10"), at(D1, "10:12")),
        ("S1", "subscriber_minutes", 2, 900, at(D1, "10:05"), at(D1, "14:06")),
        ("S1", "video_session", 2, 0, at(D1, "10:00"), at(D1, "14:00")),
        ("S2", "sip_interconnect", 1, 90, at(D1, "11:00"), at(D1, "11:01") + timedelta(seconds=30)),
        (
            "S2",
            "unclassified: Some_New_Feature",
            1,
            30,
            at(D1, "11:30"),
            at(D1, "11:30") + timedelta(seconds=30),
        ),
    ]
    # Nothing is lost or counted twice: the views hold every event and its exact cost.
    assert rows(
        dsn,
        """SELECT (SELECT sum(total_cost_exact) FROM analytics.video_usage_daily),
                  (SELECT sum(total_cost_exact) FROM analytics.video_usage_by_session),
                  (SELECT sum(total_price) FROM cdr.video_api)""",
    ) == [(Decimal("0.07125"),) * 3]


def test_freshness_lag_is_live_and_load_costs_roll_up_the_ledger(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    dsn = warehouse_with_rows.dsn
    [(lag_at_check, lag_now)] = rows(
        dsn, "SELECT lag_seconds_at_check, lag_seconds_now FROM analytics.freshness"
    )
    assert lag_at_check == 60
    assert 600 <= lag_now < 3600
    assert rows(
        dsn,
        """SELECT load_date, product, mode, load_count, cdrs_billed, reports_api_cost::text,
                  reports_api_cost_exact, currency
           FROM analytics.load_costs ORDER BY 2, 3""",
    ) == [
        (D2.date(), "MESSAGES", "async", 1, 500, "0.20", Decimal("0.2000"), "EUR"),
        (D2.date(), "SMS", "async", 1, 1000, "0.40", Decimal("0.4000"), "EUR"),
        (D2.date(), "SMS", "sync", 1, 250, "0.10", Decimal("0.1000"), "EUR"),
    ]


def test_every_money_column_of_the_analytics_views_is_rounded_to_its_currency(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    """No view prints 3.168000000000 next to 2.590: scale = the currency's minor unit, everywhere."""
    views = {
        "billing_daily": "total_cost",
        "billing_monthly": "total_cost",
        "billing_by_country_daily": "total_cost",
        "billing_by_account_monthly": "total_cost",
        "invoice_reconciliation_monthly": "total_cost",
        "video_usage_daily": "total_cost",
        "video_usage_by_session": "total_cost",
        "load_costs": "reports_api_cost",
    }
    scale = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}
    for view, column in views.items():
        found = rows(
            warehouse_with_rows.dsn,
            sql.SQL("SELECT currency, scale({}) FROM analytics.{} WHERE {} IS NOT NULL").format(
                sql.Identifier(column), sql.Identifier(view), sql.Identifier(column)
            ),
        )
        assert found, view
        for currency, actual in found:
            assert actual == scale[currency], (view, currency, actual)


def test_analyst_reads_tables_and_views_but_cannot_write_or_manage(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    roles = warehouse_with_rows.roles
    with psycopg.connect(warehouse_with_rows.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.analyst)))
        assert conn.execute("SELECT count(*) FROM analytics.billing_daily").fetchone() == (11,)
        assert conn.execute("SELECT count(*) FROM cdr.sms").fetchone() == (6,)
        assert conn.execute("SELECT count(*) FROM cdr.load_ledger").fetchone() == (3,)
        forbidden = [
            "INSERT INTO cdr.sms (id, event_time, _source, _load_id) VALUES ('x', now(), 'sync', 1)",
            "UPDATE cdr.settings SET value = '0' WHERE name = 'reports_api_price_per_cdr'",
            "DELETE FROM cdr.load_ledger",
            "CREATE TABLE cdr.mine (x int)",
            "CREATE VIEW analytics.mine AS SELECT 1",
            "SELECT cdr.ensure_partitions(now(), now() + interval '2 years')",
            "SELECT cdr.apply_analyst_privileges('a', 'b')",
            "TRUNCATE cdr.sms",
        ]
        for statement in forbidden:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(statement)

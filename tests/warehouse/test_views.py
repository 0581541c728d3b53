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
    conn: psycopg.Connection, id_: str, feature: str, start: datetime, seconds: int, price: str, **kw: Any
) -> None:
    insert(
        conn,
        "video_api",
        id=id_,
        account_id="acctA",
        application_id="app1",
        session_id="S1",
        feature_name=feature,
        date_start=start,
        date_end=start + timedelta(seconds=seconds),
        duration=seconds,
        total_price=Decimal(price),
        currency="USD",
        event_time=start,
        **kw,
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
        insert(
            conn,
            "voice_call",
            id="v1",
            account_id="acctA",
            date_start=at(D1, "13:00"),
            event_time=at(D1, "13:00"),
            status="ANSWERED",
            total_price=Decimal("1.2000"),
            currency="EUR",
        )
        insert(
            conn,
            "voice_failed",
            id="f1",
            account_id="acctA",
            date_start=at(D1, "13:05"),
            event_time=at(D1, "13:05"),
            status="FAILED",
        )
        video(conn, "e1", "Video Session", at(D1, "10:00"), 1800, "0.1200", meeting_id="M1")
        video(conn, "e2", "Video Session", at(D1, "14:00"), 900, "0.0600", meeting_id="M2")
        video(conn, "e3", "Subscriber minutes", at(D1, "10:05"), 600, "0.0200", subscriber_id="sub1")
        video(conn, "e4", "Subscriber minutes", at(D1, "14:01"), 300, "0.0100", subscriber_id="sub2")
        video(conn, "e5", "Archiving", at(D1, "10:10"), 120, "0.0050", archive_id="ar1")
        for product, mode, billed in (
            ("SMS", "async", 1000),
            ("SMS", "sync", 250),
            ("MESSAGES", "async", 500),
        ):
            conn.execute(
                """INSERT INTO cdr.load_ledger (product, account_id, direction, mode, window_start,
                       window_end, rows_read, rows_loaded, rows_inserted, rows_updated, rows_unchanged,
                       rows_quarantined,
                       cdrs_billed, started_at)
                   VALUES (%s, 'acctA', 'outbound', %s, %s, %s, %s, %s, %s, 0, 0, 0, %s, %s)""",
                (product, mode, D1, D2, billed, billed, billed, billed, at(D2, "06:00")),
            )
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
    assert counts == {"SMS": 6, "MESSAGES": 2, "VOICE-CALL": 1, "VOICE-FAILED": 1, "VIDEO-API": 5}
    assert rows(dsn, "SELECT price, currency, status FROM analytics.cdr WHERE product = 'VOICE-FAILED'") == [
        (None, None, "FAILED")
    ]
    assert rows(dsn, "SELECT DISTINCT direction, country FROM analytics.cdr WHERE product = 'VIDEO-API'") == [
        (None, None)
    ]


def test_billing_per_account_product_day_month_and_currency(warehouse_with_rows: MigratedWarehouse) -> None:
    dsn = warehouse_with_rows.dsn
    daily = rows(
        dsn,
        """SELECT usage_date, account_id, currency, cdr_count, total_cost FROM analytics.billing_daily
           WHERE product = 'SMS' ORDER BY 1, 2""",
    )
    assert daily == [
        (D1.date(), "acctA", "EUR", 4, Decimal("0.0999")),
        (D1.date(), "acctB", "USD", 1, Decimal("0.0079")),
        (D2.date(), "acctA", "EUR", 1, Decimal("0.0333")),
    ]
    monthly = rows(
        dsn,
        """SELECT account_id, product, currency, cdr_count, priced_cdr_count, total_cost
           FROM analytics.billing_monthly WHERE usage_month = %s ORDER BY 1, 2, 3""",
        (MONTH.date(),),
    )
    assert monthly == [
        ("acctA", "MESSAGES", "EUR", 2, 2, Decimal("0.0200")),
        ("acctA", "SMS", "EUR", 5, 5, Decimal("0.1332")),
        ("acctA", "VIDEO-API", "USD", 5, 5, Decimal("0.2150")),
        ("acctA", "VOICE-CALL", "EUR", 1, 1, Decimal("1.2000")),
        ("acctA", "VOICE-FAILED", None, 1, 0, None),
        ("acctB", "SMS", "USD", 1, 1, Decimal("0.0079")),
    ]


def test_invoice_reconciliation_adds_the_reports_api_charge_at_the_configured_price(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    dsn = warehouse_with_rows.dsn
    query = """SELECT product, currency, cdr_count, total_cost, reports_api_cdrs_billed, reports_api_cost
               FROM analytics.invoice_reconciliation_monthly
               WHERE invoice_month = %s AND product IN ('SMS', 'MESSAGES') ORDER BY 1, 2"""
    assert rows(dsn, query, (MONTH.date(),)) == [
        ("MESSAGES", "EUR", 2, Decimal("0.0200"), 500, Decimal("0.2000")),
        ("SMS", "EUR", 5, Decimal("0.1332"), 1250, Decimal("0.5000")),
        ("SMS", "USD", 1, Decimal("0.0079"), 0, 0),
    ]
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE cdr.settings SET value = '0.0005' WHERE name = 'reports_api_price_per_cdr'")
    assert rows(dsn, query, (MONTH.date(),))[1][-1] == Decimal("0.6250")


def test_delivery_rates_per_hour_country_and_network(warehouse_with_rows: MigratedWarehouse) -> None:
    result = rows(
        warehouse_with_rows.dsn,
        """SELECT hour_start, product, channel, country, network, message_count, delivered_count,
                  failed_count, pending_count, other_count, delivery_rate, failure_rate
           FROM analytics.delivery_rates_hourly ORDER BY 1, 2 DESC, 4""",
    )
    assert result == [
        (at(D1, "10:00"), "SMS", "sms", "GB", "23410", 3, 1, 1, 1, 0, Decimal("0.3333"), Decimal("0.3333")),
        (
            at(D1, "10:00"),
            "MESSAGES",
            "whatsapp",
            "GB",
            "23410",
            2,
            1,
            1,
            0,
            0,
            Decimal("0.5000"),
            Decimal("0.5000"),
        ),
        (at(D1, "11:00"), "SMS", "sms", "US", "310260", 1, 1, 0, 0, 0, Decimal("1.0000"), Decimal("0.0000")),
        (at(D2, "09:00"), "SMS", "sms", "GB", "23410", 1, 0, 0, 0, 1, Decimal("0.0000"), Decimal("0.0000")),
    ]


def test_video_minutes_per_session_and_meeting(warehouse_with_rows: MigratedWarehouse) -> None:
    dsn = warehouse_with_rows.dsn
    assert rows(
        dsn,
        """SELECT session_id, meeting_count, meeting_minutes, subscriber_minutes, archiving_minutes,
                  total_cost, currency, mixed_currencies FROM analytics.video_minutes_by_session""",
    ) == [("S1", 2, Decimal("45.00"), Decimal("15.00"), Decimal("2.00"), Decimal("0.2150"), "USD", False)]
    assert rows(
        dsn,
        """SELECT meeting_id, meeting_started_at, meeting_minutes, subscriber_minutes, meeting_cost
           FROM analytics.video_minutes_by_meeting ORDER BY 1""",
    ) == [
        ("M1", at(D1, "10:00"), Decimal("30.00"), Decimal("10.00"), Decimal("0.1200")),
        ("M2", at(D1, "14:00"), Decimal("15.00"), Decimal("5.00"), Decimal("0.0600")),
    ]


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
        """SELECT load_date, product, mode, load_count, cdrs_billed, reports_api_cost, currency
           FROM analytics.load_costs ORDER BY 2, 3""",
    ) == [
        (D2.date(), "MESSAGES", "async", 1, 500, Decimal("0.2000"), "EUR"),
        (D2.date(), "SMS", "async", 1, 1000, Decimal("0.4000"), "EUR"),
        (D2.date(), "SMS", "sync", 1, 250, Decimal("0.1000"), "EUR"),
    ]


def test_analyst_reads_tables_and_views_but_cannot_write_or_manage(
    warehouse_with_rows: MigratedWarehouse,
) -> None:
    roles = warehouse_with_rows.roles
    with psycopg.connect(warehouse_with_rows.dsn, autocommit=True) as conn:
        # A partition created after the migration (by the loader) is readable too: default privileges.
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.loader)))
        conn.execute("SELECT cdr.ensure_partitions('2031-06-15T00:00:00Z', '2031-06-15T00:00:00Z')")
        conn.execute("RESET ROLE")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.analyst)))
        assert conn.execute("SELECT count(*) FROM analytics.billing_daily").fetchone() == (7,)
        assert conn.execute("SELECT count(*) FROM cdr.sms").fetchone() == (6,)
        assert conn.execute("SELECT count(*) FROM cdr.load_ledger").fetchone() == (3,)
        conn.execute("SELECT count(*) FROM cdr.sms_p203106")
        forbidden = [
            "INSERT INTO cdr.sms (id, event_time, _source, _load_id) VALUES ('x', now(), 'sync', 1)",
            "UPDATE cdr.settings SET value = '0' WHERE name = 'reports_api_price_per_cdr'",
            "DELETE FROM cdr.load_ledger",
            "CREATE TABLE cdr.mine (x int)",
            "CREATE VIEW analytics.mine AS SELECT 1",
            "SELECT cdr.ensure_partitions(now(), now() + interval '2 years')",
            "TRUNCATE cdr.sms",
        ]
        for statement in forbidden:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied"):
                conn.execute(statement)

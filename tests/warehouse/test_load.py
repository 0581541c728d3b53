"""Loading normalized files into a real, migrated PostgreSQL: what lands, what is counted, what reloads do."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from include.vonage_cdr.normalize import NormalizeResult, normalize_csv_stream, normalize_records
from include.vonage_cdr.normalize.errors import MissingRequiredColumns
from include.vonage_cdr.products import get_product
from include.vonage_cdr.warehouse.load import LoadRequest, LoadResult, load_normalized

SMS = get_product("SMS")
START = datetime(2026, 11, 20, tzinfo=UTC)
END = START + timedelta(days=1)
WATERMARK_SQL = (
    "INSERT INTO cdr.sync_watermark (product, account_id, watermark, load_id) VALUES ('SMS', 'a', now(), %s)"
)
HEADER = ["account_id", "id", "date_received", "status", "currency", "total_price", "latency", "message_body"]


def quoted_csv(header: list[str], rows: list[list[str]]) -> bytes:
    def line(values: list[str]) -> str:
        return ",".join('"' + v.replace('"', '""') + '"' for v in values)

    return ("\n".join([line(header), *(line(r) for r in rows)]) + "\n").encode("utf-8")


def row(i: int, status: str = "delivered", price: str = "0.03330000", body: str = "hi") -> list[str]:
    return ["abcd1234", f"m{i}", f"2026-11-20T10:00:{i:02d}+00:00", status, "EUR", price, str(100 + i), body]


def request(mode: str = "async", **overrides: Any) -> LoadRequest:
    values: dict[str, Any] = {
        "product": SMS,
        "account_id": "abcd1234",
        "direction": "outbound",
        "mode": mode,
        "window_start": START,
        "window_end": END,
        "report_request_id": "req-1",
        "source_file": "report_SMS_abcd1234_20261121.csv",
        "cdrs_billed": 0,
        "started_at": datetime.now(UTC),
        "airflow": {"dag_id": "vonage_cdr_daily", "run_id": "r1", "task_id": "load", "try_number": 1},
    }
    values.update(overrides)
    return LoadRequest(**values)


@pytest.fixture
def load_csv(tmp_path: Path, migrated_warehouse: Any) -> Callable[..., tuple[NormalizeResult, LoadResult]]:
    counter = iter(range(1000))

    def run(data: bytes, **kwargs: Any) -> tuple[NormalizeResult, LoadResult]:
        normalized = normalize_csv_stream(
            io.BytesIO(data), SMS, tmp_path / f"f{next(counter)}.parquet", source_name="report.csv"
        )
        req = request(cdrs_billed=normalized.rows_read, **kwargs.pop("request", {}))
        return normalized, load_normalized(migrated_warehouse.dsn, req, normalized, **kwargs)

    return run


def fetch(dsn: str, query: str, params: Any = None) -> list[dict[str, Any]]:
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()


def test_bad_row_extra_and_missing_columns_load_the_good_rows_and_account_for_all(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    header = [*HEADER[:-1], "surprise_column"]  # message_body missing, surprise_column unknown
    good = [*row(1)[:-1], "kept-1"]
    bad = ["abcd1234", "m2", "2026-11-20T10:00:02+00:00", "delivered", "EUR", "abc", "1", "kept-2"]
    good2 = [*row(3)[:-1], ""]
    data = quoted_csv(header, [good, bad, good2])
    normalized, loaded = load_csv(data)
    dsn = migrated_warehouse.dsn

    assert (loaded.rows_read, loaded.rows_loaded, loaded.rows_inserted, loaded.rows_quarantined) == (
        3,
        2,
        2,
        1,
    )
    rows = fetch(dsn, "SELECT id, message_body, extras, _source, _load_id FROM cdr.sms ORDER BY id")
    assert [(r["id"], r["message_body"], r["extras"]) for r in rows] == [
        ("m1", None, {"surprise_column": "kept-1"}),
        ("m3", None, {"surprise_column": None}),
    ]
    assert {(r["_source"], r["_load_id"]) for r in rows} == {("async", loaded.load_id)}

    (q,) = fetch(dsn, "SELECT * FROM cdr.quarantine")
    assert q["load_id"] == loaded.load_id and q["line_number"] == 3
    assert q["reason"] == "total_price: cannot parse 'abc' as numeric"
    assert q["raw_line"] == data.decode().splitlines()[2]
    assert (q["product"], q["account_id"], q["direction"]) == ("SMS", "abcd1234", "outbound")

    (ledger,) = fetch(dsn, "SELECT * FROM cdr.load_ledger")
    assert ledger["load_id"] == loaded.load_id
    assert {k: ledger[k] for k in ("rows_read", "rows_loaded", "rows_inserted", "rows_updated")} == {
        "rows_read": 3,
        "rows_loaded": 2,
        "rows_inserted": 2,
        "rows_updated": 0,
    }
    assert (ledger["rows_unchanged"], ledger["rows_quarantined"], ledger["cdrs_billed"]) == (0, 1, 3)
    assert ledger["unknown_columns"] == ["surprise_column"]
    # message_body is optional (only with include_message): its absence is no news; message_id's is
    assert "message_id" in ledger["missing_columns"] and "message_body" not in ledger["missing_columns"]
    assert "id" not in ledger["missing_columns"]
    assert (ledger["mode"], ledger["dag_id"], ledger["try_number"]) == ("async", "vonage_cdr_daily", 1)
    assert ledger["finished_at"] >= ledger["started_at"] and ledger["load_seconds"] > 0
    assert ledger["normalize_seconds"] == pytest.approx(normalized.seconds)


def test_values_survive_exactly(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    bodies = [
        'comma, "quotes" and a\nnewline',
        "tab\there, backslash \\ and \\N literally",
        "Grüße ✓ 你好 😀 \r\n CRLF",
    ]
    rows = [
        ["abcd1234", "m1", "2026-11-20T10:00:00+0000", "delivered", "EUR", "0.03330000", "1", bodies[0]],
        ["abcd1234", "m2", "2026-11-20T10:00:00+00:00", "delivered", "EUR", "0.0000000123", "2", bodies[1]],
        ["abcd1234", "m3", "2026-11-20T10:00:00.000Z", "", "", "", "", bodies[2]],
        ["abcd1234", "m4", "2026-11-20T11:00:00.250+01:00", "failed", "EUR", "1234567.5", "", ""],
    ]
    load_csv(quoted_csv(HEADER, rows))
    got = {
        r["id"]: r
        for r in fetch(
            migrated_warehouse.dsn,
            "SELECT id, date_received, event_time, status, currency, total_price, latency, message_body "
            "FROM cdr.sms",
        )
    }
    ten = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert {got[k]["date_received"] for k in ("m1", "m2", "m3")} == {ten}
    assert got["m4"]["date_received"] == ten + timedelta(milliseconds=250)
    assert got["m4"]["event_time"] == got["m4"]["date_received"]
    assert got["m1"]["total_price"] == Decimal("0.0333") and isinstance(got["m1"]["total_price"], Decimal)
    assert got["m2"]["total_price"] == Decimal("0.0000000123")
    assert got["m4"]["total_price"] == Decimal("1234567.5")
    assert [got[k]["message_body"] for k in ("m1", "m2", "m3")] == bodies
    assert (got["m3"]["status"], got["m3"]["currency"], got["m3"]["total_price"], got["m3"]["latency"]) == (
        None,
        None,
        None,
        None,
    )
    assert got["m4"]["message_body"] is None


def snapshot(dsn: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT * FROM cdr.sms ORDER BY id").fetchall()


def test_reloading_the_same_file_changes_nothing(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    data = quoted_csv(
        HEADER, [row(i) for i in range(1, 6)] + [["abcd1234", "bad", "never", "", "", "", "", ""]]
    )
    _, first = load_csv(data)
    before = snapshot(migrated_warehouse.dsn)
    _, second = load_csv(data)

    assert (first.rows_inserted, first.rows_updated, first.rows_unchanged) == (5, 0, 0)
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (0, 0, 5)
    assert snapshot(migrated_warehouse.dsn) == before  # every column, meta columns included
    quarantine = fetch(migrated_warehouse.dsn, "SELECT load_id FROM cdr.quarantine")
    assert quarantine == [{"load_id": second.load_id}]  # replaced, not piled up
    ledger = fetch(
        migrated_warehouse.dsn, "SELECT rows_inserted, rows_updated FROM cdr.load_ledger ORDER BY 1"
    )
    assert len(ledger) == 2


def test_changed_status_and_price_update_exactly_those_rows(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    dsn = migrated_warehouse.dsn
    _, first = load_csv(quoted_csv(HEADER, [row(i, status="submitted") for i in range(1, 6)]))
    before = {r["id"]: r for r in fetch(dsn, "SELECT * FROM cdr.sms")}
    changed = [row(i, status="submitted") for i in range(1, 6)]
    changed[1] = row(2, status="delivered")
    changed[3] = row(4, status="submitted", price="0.04000000")
    _, second = load_csv(quoted_csv(HEADER, changed))
    after = {r["id"]: r for r in fetch(dsn, "SELECT * FROM cdr.sms")}

    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (0, 2, 3)
    assert after["m2"]["status"] == "delivered" and after["m4"]["total_price"] == Decimal("0.04")
    for key in ("m2", "m4"):
        assert after[key]["_last_changed_at"] > before[key]["_last_changed_at"]
        assert after[key]["_first_loaded_at"] == before[key]["_first_loaded_at"]
        assert after[key]["_load_id"] == second.load_id
    for key in ("m1", "m3", "m5"):
        assert after[key] == before[key]  # not rewritten: same meta columns, same load id
        assert after[key]["_load_id"] == first.load_id


def test_duplicate_ids_in_one_file_keep_the_last_occurrence(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    rows = [row(1, status="submitted"), row(2), row(1, status="delivered")]
    _, loaded = load_csv(quoted_csv(HEADER, rows))
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rows_duplicate) == (3, 2, 1)
    got = fetch(migrated_warehouse.dsn, "SELECT id, status FROM cdr.sms ORDER BY id")
    assert got == [{"id": "m1", "status": "delivered"}, {"id": "m2", "status": "delivered"}]


def test_hook_runs_in_the_same_transaction(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    dsn = migrated_warehouse.dsn
    data = quoted_csv(HEADER, [row(1)])

    def failing_hook(conn: psycopg.Connection, load_id: int) -> None:
        conn.execute(
            WATERMARK_SQL,
            (load_id,),
        )
        raise RuntimeError("watermark check failed")

    with pytest.raises(RuntimeError, match="watermark check failed"):
        load_csv(data, extra_sql_in_txn=failing_hook)
    for table in ("cdr.sms", "cdr.load_ledger", "cdr.sync_watermark"):
        assert fetch(dsn, f"SELECT count(*) AS n FROM {table}") == [{"n": 0}]

    seen: list[int] = []

    def watermark_hook(conn: psycopg.Connection, load_id: int) -> None:
        seen.append(load_id)
        conn.execute(
            WATERMARK_SQL,
            (load_id,),
        )

    _, loaded = load_csv(data, extra_sql_in_txn=watermark_hook)
    assert seen == [loaded.load_id]
    assert fetch(dsn, "SELECT load_id FROM cdr.sync_watermark") == [{"load_id": loaded.load_id}]


def test_sync_records_load_with_their_source_and_new_partitions(
    tmp_path: Path, migrated_warehouse: Any
) -> None:
    records = [
        {
            "account_id": "abcd1234",
            "id": "s1",
            "date_received": "2026-11-30T23:59:59+00:00",
            "total_price": 0.0333,
            "currency": "EUR",
        },
        {
            "account_id": "abcd1234",
            "currency": "EUR",
            "id": "s2",
            "date_received": "2026-12-01T00:00:00Z",
            "total_price": "0.05",
            "network_type": "mobile",
        },
    ]
    normalized = normalize_records(records, SMS, tmp_path / "sync.parquet", source_name="sync")
    window_start = datetime(2026, 11, 30, 23, 55, tzinfo=UTC)
    req = request(mode="sync", window_start=window_start, window_end=window_start + timedelta(minutes=5))
    with psycopg.connect(migrated_warehouse.dsn, autocommit=True) as conn:
        loaded = load_normalized(conn, req, normalized)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert loaded.rows_inserted == 2
    got = fetch(
        migrated_warehouse.dsn, "SELECT id, _source, extras, tableoid::regclass::text AS part FROM cdr.sms"
    )
    assert sorted((r["id"], r["_source"], r["part"]) for r in got) == [
        ("s1", "sync", "cdr.sms_p202611"),
        ("s2", "sync", "cdr.sms_p202612"),
    ]
    assert {r["id"]: r["extras"] for r in got}["s2"] == {"network_type": "mobile"}
    assert json.loads(json.dumps(loaded.__dict__, default=str))["rows_quarantined"] == 0


def test_refuses_a_connection_inside_a_transaction(tmp_path: Path, migrated_warehouse: Any) -> None:
    normalized = normalize_records([], SMS, tmp_path / "e.parquet", source_name="sync")
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        conn.execute("SELECT 1")
        with pytest.raises(ValueError, match="outside any transaction"):
            load_normalized(conn, request(), normalized)
    with pytest.raises(ValueError, match="timezone-aware"):
        load_normalized(migrated_warehouse.dsn, request(window_start=datetime(2026, 11, 20)), normalized)


# -- absent columns are unknown, never NULL ----------------------------------------------------------------
def only(columns: list[str], values: list[str]) -> list[str]:
    """The values of ``row()`` for a file that carries only ``columns``."""
    return [v for c, v in zip(HEADER, values, strict=True) if c in columns]


def test_an_absent_column_keeps_the_stored_values_and_is_recorded_as_missing(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    dsn = migrated_warehouse.dsn
    load_csv(quoted_csv(HEADER, [row(1, status="submitted", body="hello"), row(2, status="submitted")]))
    before = {r["id"]: r for r in fetch(dsn, "SELECT * FROM cdr.sms")}
    # The next report has no status (an expected column) and no message_body (optional: include_message).
    carried = [c for c in HEADER if c not in ("status", "message_body")]
    rows = [only(carried, row(1, price="0.05000000")), only(carried, row(2)), only(carried, row(3))]
    _, second = load_csv(quoted_csv(carried, rows))

    got = {r["id"]: r for r in fetch(dsn, "SELECT id, status, total_price, message_body FROM cdr.sms")}
    assert got["m1"] == {
        "id": "m1",
        "status": "submitted",
        "total_price": Decimal("0.05"),
        "message_body": "hello",
    }
    assert (got["m2"]["status"], got["m2"]["message_body"]) == ("submitted", "hi")  # kept, not nulled
    assert (got["m3"]["status"], got["m3"]["message_body"]) == (None, None)  # new record: unknown
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (1, 1, 1)
    after_m2 = fetch(dsn, "SELECT * FROM cdr.sms WHERE id = 'm2'")[0]
    assert after_m2 == before["m2"]  # not even rewritten: the absent columns are not compared
    first_ledger, second_ledger = fetch(dsn, "SELECT missing_columns FROM cdr.load_ledger ORDER BY load_id")
    assert "status" not in first_ledger["missing_columns"]
    assert "status" in second_ledger["missing_columns"]
    assert "message_body" not in second_ledger["missing_columns"]  # optional: not a real absence
    assert second.missing_columns == tuple(second_ledger["missing_columns"])

    _, again = load_csv(quoted_csv(carried, rows))  # reloading the narrow file changes nothing
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 3)


@pytest.mark.parametrize(
    ("rename", "missing"),
    [
        ({"total_price": None}, "'total_price'"),
        ({"total_price": "total_cost"}, "'total_price'"),
        ({"currency": None}, "'currency'"),
        ({"id": "record_id"}, "'id'"),
        ({"account_id": None, "date_received": None}, "'account_id', 'date_received'"),
    ],
)
def test_a_file_without_a_column_identity_or_billing_needs_is_refused(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]],
    migrated_warehouse: Any,
    rename: dict[str, str | None],
    missing: str,
) -> None:
    dsn = migrated_warehouse.dsn
    load_csv(quoted_csv(HEADER, [row(1), row(2)]))
    before = fetch(dsn, "SELECT * FROM cdr.sms ORDER BY id")
    header = [rename.get(c, c) for c in HEADER]
    keep = [i for i, c in enumerate(header) if c is not None]
    data = quoted_csv([header[i] for i in keep], [[r[i] for i in keep] for r in (row(1, price="9"), row(3))])

    with pytest.raises(MissingRequiredColumns, match=rf"^report\.csv: the SMS file has no column {missing}"):
        load_csv(data)
    assert fetch(dsn, "SELECT * FROM cdr.sms ORDER BY id") == before  # prices untouched, nothing added
    assert fetch(dsn, "SELECT count(*) AS n FROM cdr.load_ledger") == [{"n": 1}]


# -- one identity per record -------------------------------------------------------------------------------
def sms_row(record_id: str, received: str, status: str = "delivered", body: str = "hi") -> list[str]:
    return ["abcd1234", record_id, received, status, "EUR", "0.03330000", "100", body]


def test_a_record_whose_event_time_changes_stays_one_row_and_is_billed_once(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    dsn = migrated_warehouse.dsn
    first_rows = [
        sms_row("m1", "2026-11-30T23:59:59+00:00", "submitted", "hello"),
        sms_row("m2", "2026-11-30T10:00:00Z"),
    ]
    _, first = load_csv(quoted_csv(HEADER, first_rows))
    (stored,) = fetch(dsn, "SELECT _first_loaded_at FROM cdr.sms WHERE id = 'm1'")
    # Vonage corrects m1's time into the next month; this file also lacks message_body.
    carried = HEADER[:-1]
    moved_rows = [sms_row("m1", "2026-12-01T00:00:01+00:00")[:-1], sms_row("m2", "2026-11-30T10:00:00Z")[:-1]]
    _, second = load_csv(quoted_csv(carried, moved_rows))

    got = fetch(
        dsn,
        "SELECT id, event_time, status, message_body, _first_loaded_at, _load_id, "
        "tableoid::regclass::text AS part FROM cdr.sms WHERE id = 'm1'",
    )
    assert len(got) == 1, got
    (m1,) = got
    assert m1["event_time"] == datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC) and m1["part"] == "cdr.sms_p202612"
    assert (m1["status"], m1["message_body"]) == ("delivered", "hello")  # new value; absent column kept
    assert m1["_first_loaded_at"] == stored["_first_loaded_at"] and m1["_load_id"] == second.load_id
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged, second.rows_moved) == (
        0,
        1,
        1,
        1,
    )
    (ledger,) = fetch(
        dsn, "SELECT rows_moved, rows_updated FROM cdr.load_ledger WHERE load_id = %s", (second.load_id,)
    )
    assert ledger == {"rows_moved": 1, "rows_updated": 1}
    billed = fetch(dsn, "SELECT sum(cdr_count)::int AS n FROM analytics.billing_daily WHERE product = 'SMS'")
    assert billed == [{"n": 2}]
    assert first.rows_inserted == 2

    # moving back, and reloading either file, still leaves one row per record
    load_csv(quoted_csv(HEADER, first_rows))
    _, again = load_csv(quoted_csv(HEADER, first_rows))
    assert (again.rows_inserted, again.rows_updated, again.rows_moved) == (0, 0, 0)
    assert fetch(dsn, "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM cdr.sms") == [{"n": 2, "ids": 2}]


def test_duplicate_ids_in_one_file_keep_the_last_occurrence_and_are_counted_in_the_ledger(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    rows = [
        sms_row("m1", "2026-11-20T10:00:00Z", "submitted"),
        sms_row("m2", "2026-11-20T10:00:01Z"),
        sms_row("m1", "2026-11-20T10:05:00Z", "delivered"),  # same record, later time: one row, this one
    ]
    _, loaded = load_csv(quoted_csv(HEADER, rows))
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rows_duplicate) == (3, 2, 1)
    got = fetch(migrated_warehouse.dsn, "SELECT id, status, event_time FROM cdr.sms ORDER BY id")
    assert got == [
        {"id": "m1", "status": "delivered", "event_time": datetime(2026, 11, 20, 10, 5, tzinfo=UTC)},
        {"id": "m2", "status": "delivered", "event_time": datetime(2026, 11, 20, 10, 0, 1, tzinfo=UTC)},
    ]
    (ledger,) = fetch(
        migrated_warehouse.dsn, "SELECT rows_read, rows_loaded, rows_duplicate FROM cdr.load_ledger"
    )
    assert ledger == {"rows_read": 3, "rows_loaded": 2, "rows_duplicate": 1}


def test_concurrent_loads_of_one_record_at_two_event_times_leave_one_row(
    tmp_path: Path, migrated_warehouse: Any
) -> None:
    """A daily and an incremental load meet the same record, each with another event time, at once."""
    dsn = migrated_warehouse.dsn
    daily = normalize_csv_stream(
        io.BytesIO(quoted_csv(HEADER, [sms_row("m1", "2026-11-20T10:00:00Z")])),
        SMS,
        tmp_path / "daily.parquet",
        source_name="daily.csv",
    )
    record = dict(zip(HEADER, sms_row("m1", "2026-11-20T10:00:07Z", "delivered"), strict=True))
    sync = normalize_records([record], SMS, tmp_path / "sync.parquet", source_name="sync")
    merging, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_inside_the_merge(conn: psycopg.Connection, load_id: int) -> None:
        merging.set()  # the daily load has merged m1 and holds the merge lock, uncommitted
        assert release.wait(timeout=120)

    def run(fn: Callable[[], Any]) -> threading.Thread:
        def target() -> None:
            try:
                fn()
            except BaseException as exc:  # reported by the assertion below
                errors.append(exc)

        thread = threading.Thread(target=target)
        thread.start()
        return thread

    first = run(lambda: load_normalized(dsn, request(), daily, extra_sql_in_txn=hold_inside_the_merge))
    assert merging.wait(timeout=120)
    second = run(lambda: load_normalized(dsn, request(mode="sync", report_request_id=None), sync))
    with psycopg.connect(dsn, autocommit=True) as conn:  # until the sync load queues for the lock (or ends)
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        while second.is_alive() and conn.execute(waiting).fetchone() != (1,):
            time.sleep(0.05)  # not Event().wait(0.05): under faketime a timed lock wait does not expire
    release.set()
    first.join(timeout=120)
    second.join(timeout=120)
    assert errors == []
    got = fetch(dsn, "SELECT id, event_time, _source FROM cdr.sms")
    assert got == [
        {"id": "m1", "event_time": datetime(2026, 11, 20, 10, 0, 7, tzinfo=UTC), "_source": "sync"}
    ]


# -- what the ledger bills -----------------------------------------------------------------------------------
def test_a_reused_report_is_billed_once_in_the_ledger_and_in_load_costs(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    data = quoted_csv(HEADER, [row(1), row(2)])
    _, first = load_csv(data)
    _, rerun = load_csv(data)  # a re-run that reused report req-1: Vonage billed it once
    _, new_report = load_csv(data, request={"report_request_id": "req-2"})
    assert (first.cdrs_billed, rerun.cdrs_billed, new_report.cdrs_billed) == (2, 0, 2)
    ledger = fetch(
        migrated_warehouse.dsn, "SELECT report_request_id, cdrs_billed FROM cdr.load_ledger ORDER BY load_id"
    )
    assert [(r["report_request_id"], r["cdrs_billed"]) for r in ledger] == [
        ("req-1", 2),
        ("req-1", 0),
        ("req-2", 2),
    ]
    costs = fetch(
        migrated_warehouse.dsn,
        "SELECT sum(cdrs_billed)::int AS n, sum(load_count)::int AS loads FROM analytics.load_costs",
    )
    assert costs == [{"n": 4, "loads": 3}]


def test_upgrading_removes_the_copies_the_old_merge_stored_twice(
    pg_dsn: str, warehouse_roles: Any, tmp_path: Path
) -> None:
    """Before migration 0007, a record whose event time changed between loads was stored twice."""
    import shutil

    from include.vonage_cdr.warehouse.migrate import MIGRATIONS_DIR, apply_migrations

    roles = warehouse_roles.migrate_kwargs
    released = tmp_path / "released"
    released.mkdir()
    for path in MIGRATIONS_DIR.glob("*.sql"):
        if path.name < "0007":
            shutil.copy(path, released / path.name)
    apply_migrations(pg_dsn, directory=released, **roles)
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(pg_dsn) as conn:
        for record_id, event_time, changed in [
            ("m1", now - timedelta(days=40), now - timedelta(days=3)),  # first read
            ("m1", now - timedelta(days=39), now - timedelta(days=1)),  # re-read after its time changed
            ("m2", now - timedelta(days=39), now - timedelta(days=3)),
        ]:
            conn.execute(
                "INSERT INTO cdr.sms (id, event_time, date_received, _source, _load_id, _first_loaded_at, "
                "_last_changed_at) VALUES (%s, %s, %s, 'async', 1, %s, %s)",
                (record_id, event_time, event_time, changed, changed),
            )
    assert "0007" in apply_migrations(pg_dsn, **roles)
    got = fetch(pg_dsn, "SELECT id, event_time FROM cdr.sms ORDER BY id")
    assert got == [
        {"id": "m1", "event_time": now - timedelta(days=39)},
        {"id": "m2", "event_time": now - timedelta(days=39)},
    ]


def test_an_empty_sync_window_loads_and_records_nothing_missing(
    tmp_path: Path, migrated_warehouse: Any
) -> None:
    normalized = normalize_records([], SMS, tmp_path / "empty.parquet", source_name="sync")
    loaded = load_normalized(migrated_warehouse.dsn, request(mode="sync", report_request_id=None), normalized)
    assert (loaded.rows_read, loaded.rows_loaded, loaded.missing_columns) == (0, 0, ())


def test_an_undecodable_row_is_quarantined_in_postgres_byte_for_byte_and_the_rest_loads(
    load_csv: Callable[..., tuple[NormalizeResult, LoadResult]], migrated_warehouse: Any
) -> None:
    good = quoted_csv(HEADER, [row(1), row(3)])
    header, first, third = good.split(b"\n")[:3]
    bad = first.replace(b'"m1"', b'"m2"').replace(b'"hi"', b'"\xff\xfe\x00 caf\xe9"')
    _, loaded = load_csv(b"\n".join([header, first, bad, third]) + b"\n")
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rows_quarantined) == (3, 2, 1)
    (q,) = fetch(
        migrated_warehouse.dsn, "SELECT line_number, reason, raw_line, raw_bytes FROM cdr.quarantine"
    )
    assert q["line_number"] == 3
    assert q["reason"] == "report.csv line 3: not valid UTF-8 (in message_body)"
    assert bytes(q["raw_bytes"]) == bad  # exact, reproducible
    assert q["raw_line"].endswith('"\\xff\\xfe\\x00 caf\\xe9"')
    assert [r["id"] for r in fetch(migrated_warehouse.dsn, "SELECT id FROM cdr.sms ORDER BY id")] == [
        "m1",
        "m3",
    ]

"""Normalization: what an analyst would otherwise find wrong in the typed Parquet.

Every test feeds real bytes (CSV as Vonage sends it: every field double-quoted) or real JSON-shaped records
through the public functions and reads the Parquet back with pyarrow.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.vonage_cdr.normalize import (
    DECIMAL_TYPE,
    TIMESTAMP_TYPE,
    normalize_csv_stream,
    normalize_records,
    normalize_zip,
)
from include.vonage_cdr.normalize.errors import MissingRequiredColumns
from include.vonage_cdr.products import get_product

SMS = get_product("SMS")


def quoted_csv(header: list[str], rows: list[list[str]]) -> bytes:
    def line(values: list[str]) -> str:
        return ",".join('"' + v.replace('"', '""') + '"' for v in values)

    return ("\n".join([line(header), *(line(r) for r in rows)]) + "\n").encode("utf-8")


#: the columns an SMS file cannot lack (identity and billing), for tests about something else
BASE = ["account_id", "id", "date_received", "currency", "total_price"]


def base_row(record_id: str, received: str, *more: str) -> list[str]:
    return ["abcd1234", record_id, received, "EUR", "0.01", *more]


def acct(rows: list[list[str]]) -> list[list[str]]:
    """Rows for HEADER: every row starts with the account id (a column billing needs)."""
    return [["abcd1234", *r] for r in rows]


def read_rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def read_quarantine(path: Path | None) -> list[dict]:
    assert path is not None
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


HEADER = [
    "account_id",
    "id",
    "date_received",
    "total_price",
    "currency",
    "status",
    "latency",
    "concatenated",
    "message_body",
]


def test_timestamp_styles_and_fractions_are_the_same_instant(tmp_path: Path) -> None:
    rows = [
        ["a", "2026-11-20T12:21:35+0000", "", "", "", "", "", ""],
        ["b", "2026-11-20T12:21:35+00:00", "", "", "", "", "", ""],
        ["c", "2026-11-20T12:21:35Z", "", "", "", "", "", ""],
        ["d", "2026-11-20T12:21:35.000+00:00", "", "", "", "", "", ""],
        ["e", "2026-11-20T14:21:35+02:00", "", "", "", "", "", ""],
        ["f", "2026-11-20T12:21:35.123456789Z", "", "", "", "", "", ""],
    ]
    result = normalize_csv_stream(
        io.BytesIO(quoted_csv(HEADER, acct(rows))), SMS, tmp_path / "t.parquet", source_name="t.csv"
    )
    assert result.rows_quarantined == 0
    table = pq.read_table(result.parquet_path)
    assert table.schema.field("date_received").type == TIMESTAMP_TYPE
    times = {r["id"]: r["date_received"] for r in table.to_pylist()}
    instant = datetime(2026, 11, 20, 12, 21, 35, tzinfo=UTC)
    assert {times[k] for k in "abcde"} == {instant}
    assert times["f"] == datetime(2026, 11, 20, 12, 21, 35, 123456, tzinfo=UTC)  # truncated to microseconds
    assert {r["event_time"] for r in table.to_pylist() if r["id"] != "f"} == {instant}


def test_prices_exact_decimals_empty_strings_null_and_text_byte_for_byte(tmp_path: Path) -> None:
    bodies = [
        'Hello, "world"',
        "two\nlines, and a comma",
        "Grüße ✓ 你好 😀",
        "  spaces kept  ",
        "back\\slash\ttab\r\nCRLF",
    ]
    rows = [
        [f"m{i}", "2026-11-20T00:00:00+00:00", price, "EUR", "delivered", "2274", "FALSE", body]
        for i, (price, body) in enumerate(
            zip(["0.03330000", "0.0000000001", "12.5", "0", "1234567.123456789012"], bodies, strict=True)
        )
    ]
    rows.append(["empty", "2026-11-20T00:00:00+00:00", "", "", "", "", "", ""])
    result = normalize_csv_stream(
        io.BytesIO(quoted_csv(HEADER, acct(rows))), SMS, tmp_path / "p.parquet", source_name="p.csv"
    )
    table = pq.read_table(result.parquet_path)
    assert table.schema.field("total_price").type == DECIMAL_TYPE
    by_id = {r["id"]: r for r in table.to_pylist()}
    assert by_id["m0"]["total_price"] == Decimal("0.0333")
    assert by_id["m1"]["total_price"] == Decimal("1E-10")
    assert by_id["m4"]["total_price"] == Decimal("1234567.123456789012")
    assert all(isinstance(by_id[f"m{i}"]["total_price"], Decimal) for i in range(5))
    assert [by_id[f"m{i}"]["message_body"] for i in range(5)] == bodies
    assert by_id["m0"]["latency"] == 2274 and by_id["m0"]["concatenated"] is False
    empty = by_id["empty"]
    assert all(empty[c] is None for c in ("total_price", "currency", "status", "latency", "concatenated"))
    assert empty["message_body"] is None
    assert empty["extras"] == "{}"


def test_bad_rows_are_quarantined_with_reason_and_raw_line_and_the_rest_loads(tmp_path: Path) -> None:
    header = [*HEADER, "brand_new_column"]
    good = ["ok1", "2026-11-20T00:00:00+00:00", "0.1", "EUR", "delivered", "1", "TRUE", "hi", "x1"]
    bad_time = ["bad1", "20/11/2026 00:00", "0.1", "EUR", "delivered", "1", "TRUE", "hi", "x"]
    bad_price = ["bad2", "2026-11-20T00:00:00+00:00", "0.1.2", "EUR", "delivered", "1", "TRUE", "hi", "x"]
    bad_bool = ["bad3", "2026-11-20T00:00:00+00:00", "0.1", "EUR", "delivered", "1", "maybe", "hi", "x"]
    no_id = ["", "2026-11-20T00:00:00+00:00", "0.1", "EUR", "delivered", "1", "TRUE", "hi", "x"]
    good2 = ["ok2", "2026-11-20T00:00:01+00:00", "0.2", "EUR", "failed", "2", "FALSE", "yo", ""]
    data = quoted_csv(header, acct([good, bad_time, bad_price, bad_bool, no_id, good2]))
    short_row = b'"short","2026-11-20T00:00:00+00:00","0.1"\n'
    data += short_row
    result = normalize_csv_stream(io.BytesIO(data), SMS, tmp_path / "q.parquet", source_name="q.csv")

    assert (result.rows_read, result.rows_ok, result.rows_quarantined) == (7, 2, 5)
    assert result.unknown_columns == ("brand_new_column",)
    assert "network" in result.missing_columns and "id" not in result.missing_columns
    assert "network" in result.absent_columns
    rows = read_rows(result.parquet_path)
    assert [r["id"] for r in rows] == ["ok1", "ok2"]
    assert [json.loads(r["extras"]) for r in rows] == [{"brand_new_column": "x1"}, {"brand_new_column": None}]
    assert all(r["network"] is None for r in rows)  # absent column: NULL in the file, listed as absent

    quarantined = {q["line_number"]: q for q in read_quarantine(result.quarantine_path)}
    lines = data.decode().splitlines()
    assert set(quarantined) == {3, 4, 5, 6, 8}
    for number, q in quarantined.items():
        assert q["raw_line"] == lines[number - 1]  # byte for byte, as received
        assert q["source"] == "q.csv"
    assert "date_received" in quarantined[3]["reason"] and "20/11/2026 00:00" in quarantined[3]["reason"]
    assert "total_price" in quarantined[4]["reason"] and "0.1.2" in quarantined[4]["reason"]
    assert "concatenated" in quarantined[5]["reason"] and "maybe" in quarantined[5]["reason"]
    assert quarantined[6]["reason"] == "id: missing record id"
    assert quarantined[8]["reason"] == "wrong number of fields: expected 10, got 3"


def test_json_records_land_exactly_like_the_csv(tmp_path: Path) -> None:
    csv_bytes = quoted_csv(
        [*HEADER, "gateway"],
        acct(
            [
                [
                    "r1",
                    "2026-11-20T10:00:00+00:00",
                    "0.03330000",
                    "EUR",
                    "delivered",
                    "60",
                    "TRUE",
                    "a,b",
                    "g1",
                ],
                ["r2", "2026-11-20T10:00:01+0000", "", "", "", "", "", "", ""],
            ]
        ),
    )
    records = [
        {
            "account_id": "abcd1234",
            "id": "r1",
            "date_received": "2026-11-20T10:00:00+00:00",
            "total_price": "0.03330000",
            "currency": "EUR",
            "status": "delivered",
            "latency": 60,
            "concatenated": True,
            "message_body": "a,b",
            "gateway": "g1",
        },
        {
            "account_id": "abcd1234",
            "id": "r2",
            "date_received": "2026-11-20T10:00:01+0000",
            "total_price": None,
            "currency": "",
            "status": None,
            "latency": None,
            "concatenated": None,
            "message_body": None,
            "gateway": None,
        },
    ]
    from_csv = normalize_csv_stream(io.BytesIO(csv_bytes), SMS, tmp_path / "c.parquet", source_name="c")
    from_json = normalize_records(iter(records), SMS, tmp_path / "j.parquet", source_name="sync")
    assert pq.read_table(from_csv.parquet_path).equals(pq.read_table(from_json.parquet_path))
    assert from_json.unknown_columns == from_csv.unknown_columns == ("gateway",)
    assert from_json.missing_columns == from_csv.missing_columns


def test_json_records_bad_values_are_quarantined_with_the_record(tmp_path: Path) -> None:
    key = {"account_id": "abcd1234", "currency": "EUR"}
    records = [
        {**key, "id": "ok", "date_received": "2026-11-20T10:00:00Z", "total_price": 0.0333},
        {**key, "id": "bad", "date_received": "yesterday", "total_price": 1},
        {**key, "id": "no-time", "date_received": None, "total_price": 1},
        {**key, "id": "no-time-field", "total_price": 1},
    ]
    result = normalize_records(records, SMS, tmp_path / "r.parquet", source_name="sync-page")
    assert (result.rows_read, result.rows_ok, result.rows_quarantined) == (4, 1, 3)
    assert read_rows(result.parquet_path)[0]["total_price"] == Decimal("0.0333")
    quarantined = sorted(read_quarantine(result.quarantine_path), key=lambda q: q["line_number"])
    assert [(q["line_number"], json.loads(q["raw_line"])) for q in quarantined] == [
        (2, records[1]),
        (3, records[2]),
        (4, records[3]),
    ]
    assert "yesterday" in quarantined[0]["reason"]
    assert quarantined[1]["reason"] == "date_received: missing event time"
    assert quarantined[2]["reason"] == "record has no date_received field (needed for identity or billing)"


def test_zip_with_several_csv_members_becomes_one_file(tmp_path: Path) -> None:
    zip_path = tmp_path / "SMS_report.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "report_SMS_aaaa1111_20261121.csv", quoted_csv(BASE, [base_row("a", "2026-11-20T00:00:00Z")])
        )
        zf.writestr(
            "report_SMS_bbbb2222_20261121.csv",
            quoted_csv(BASE, [base_row("b", "2026-11-20T00:00:01Z"), base_row("c", "nope")]),
        )
        zf.writestr("readme.txt", "not a csv")
    result = normalize_zip(zip_path, SMS, tmp_path / "out.parquet")
    assert [r["id"] for r in read_rows(result.parquet_path)] == ["a", "b"]
    (q,) = read_quarantine(result.quarantine_path)
    assert q["source"] == "SMS_report.zip/report_SMS_bbbb2222_20261121.csv" and q["line_number"] == 3


def test_empty_report_gives_an_empty_typed_file(tmp_path: Path) -> None:
    result = normalize_csv_stream(
        io.BytesIO(quoted_csv(HEADER, [])), SMS, tmp_path / "e.parquet", source_name="e.csv"
    )
    assert (result.rows_read, result.rows_ok, result.quarantine_path) == (0, 0, None)
    table = pq.read_table(result.parquet_path)
    assert table.num_rows == 0 and table.schema.field("total_price").type == DECIMAL_TYPE


@pytest.mark.parametrize("value", ["1.5", "99999999999999999999", "12abc"])
def test_integer_columns_reject_non_integers(tmp_path: Path, value: str) -> None:
    data = quoted_csv([*BASE, "latency"], [base_row("x", "2026-11-20T00:00:00Z", value)])
    result = normalize_csv_stream(io.BytesIO(data), SMS, tmp_path / "i.parquet", source_name="i.csv")
    assert result.rows_quarantined == 1
    assert (
        f"latency: cannot parse '{value}' as bigint" in read_quarantine(result.quarantine_path)[0]["reason"]
    )
    assert pa.types.is_int64(pq.read_schema(result.parquet_path).field("latency").type)


def test_nul_characters_are_quarantined_not_loaded(tmp_path: Path) -> None:
    rows = [base_row("n", "2026-11-20T00:00:00Z", "a\x00b"), base_row("ok", "2026-11-20T00:00:00Z", "fine")]
    data = quoted_csv([*BASE, "message_body"], rows)
    result = normalize_csv_stream(io.BytesIO(data), SMS, tmp_path / "n.parquet", source_name="n.csv")
    assert (result.rows_ok, result.rows_quarantined) == (1, 1)
    assert read_quarantine(result.quarantine_path)[0]["reason"] == "message_body: contains a NUL character"


# -- which absences are real ---------------------------------------------------------------------------------
def _simulated_cases() -> list[tuple[str, str | None]]:
    from include.vonage_cdr.products import PRODUCTS

    return [(name, d) for name, p in PRODUCTS.items() for d in (p.directions or (None,))]


@pytest.mark.parametrize(("product_name", "direction"), _simulated_cases())
def test_an_ordinary_file_reports_no_missing_columns(
    tmp_path: Path, product_name: str, direction: str | None
) -> None:
    """A file with exactly the columns Vonage sends for a plain request (no include_message, no
    show_concatenated; inbound files are narrower) lists no missing column: the ledger's missing_columns
    speaks only of real absences. The simulator's column lists follow the API's documented files."""
    from include.simulator.products import PRODUCTS as SENT
    from include.vonage_cdr.products import get_product

    product = get_product(product_name)
    sent = SENT[product_name].view_columns(direction, include_message=False, show_concatenated=False)
    result = normalize_csv_stream(
        io.BytesIO(quoted_csv(sent, [])),
        product,
        tmp_path / "o.parquet",
        source_name="o.csv",
        direction=direction,
    )
    assert result.missing_columns == ()
    with_optional = normalize_csv_stream(
        io.BytesIO(quoted_csv([c for c in sent if c not in ("network", "account_ref")], [])),
        product,
        tmp_path / "n.parquet",
        source_name="n.csv",
        direction=direction,
    )
    expected_gone = tuple(c for c in product.expected_sources(direction) if c in ("network", "account_ref"))
    assert with_optional.missing_columns == expected_gone


def test_a_csv_without_a_billing_column_is_refused_naming_file_product_and_column(tmp_path: Path) -> None:
    header = [c if c != "total_price" else "total_cost" for c in HEADER]  # renamed upstream
    data = quoted_csv(header, acct([["x", "2026-11-20T00:00:00Z", "0.1", "EUR", "", "", "", ""]]))
    target = tmp_path / "r.parquet"
    with pytest.raises(MissingRequiredColumns) as caught:
        normalize_csv_stream(io.BytesIO(data), SMS, target, source_name="SMS_r.zip/report.csv")
    assert str(caught.value).startswith("SMS_r.zip/report.csv: the SMS file has no column 'total_price'")
    assert caught.value.missing == ("total_price",)
    assert list(tmp_path.iterdir()) == []  # no file, no temporary file


def test_several_members_carry_a_column_only_if_every_header_has_it(tmp_path: Path) -> None:
    zip_path = tmp_path / "SMS_two.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr(
            "a.csv", quoted_csv([*BASE, "status"], [base_row("a", "2026-11-20T00:00:00Z", "delivered")])
        )
        zf.writestr("b.csv", quoted_csv(BASE, [base_row("b", "2026-11-20T00:00:01Z")]))
    result = normalize_zip(zip_path, SMS, tmp_path / "out.parquet")
    assert "status" in result.absent_columns and "status" in result.missing_columns
    absent = json.loads(pq.ParquetFile(result.parquet_path).metadata.metadata[b"vonage_cdr.absent_columns"])
    assert "status" in absent and "total_price" not in absent


def test_a_sync_window_without_a_price_key_is_refused_and_a_record_without_one_is_quarantined(
    tmp_path: Path,
) -> None:
    key = {"account_id": "abcd1234", "currency": "EUR", "date_received": "2026-11-20T10:00:00Z"}
    with pytest.raises(MissingRequiredColumns, match=r"^sync-w1: the SMS file has no column 'total_price'"):
        normalize_records(
            [{**key, "id": "a"}, {**key, "id": "b"}], SMS, tmp_path / "w1.parquet", source_name="sync-w1"
        )
    records = [
        {**key, "id": "a", "total_price": "0.1"},
        {**key, "id": "b"},
        {**key, "id": "c", "total_price": None},
    ]
    result = normalize_records(records, SMS, tmp_path / "w2.parquet", source_name="sync-w2")
    assert [(r["id"], r["total_price"]) for r in read_rows(result.parquet_path)] == [
        ("a", Decimal("0.1")),
        ("c", None),
    ]
    (q,) = read_quarantine(result.quarantine_path)
    assert (q["line_number"], q["reason"]) == (
        2,
        "record has no total_price field (needed for identity or billing)",
    )
    assert "status" in result.absent_columns and "total_price" not in result.absent_columns

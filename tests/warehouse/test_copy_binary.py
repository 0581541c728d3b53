"""The binary COPY encoder: what PostgreSQL stores from it equals what the values are, exactly."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from include.vonage_cdr.normalize.schema import DECIMAL_TYPE, TIMESTAMP_TYPE
from include.vonage_cdr.warehouse.copy_binary import (
    BINARY_HEADER,
    BINARY_TRAILER,
    BinaryRowEncoder,
    numeric_payload,
)

EDGE_DECIMALS = [
    None,
    Decimal(0),
    Decimal("0.0333"),
    Decimal("-0.0333"),
    Decimal("1"),
    Decimal("-1"),
    Decimal("10000"),
    Decimal("9999.999999999999"),
    Decimal("0.000000000001"),
    Decimal("-0.000000000001"),
    Decimal("9223372.036854775807"),  # the largest value that fits 64 bits at scale 12
    Decimal("9223372.036854775808"),  # the first that does not
    Decimal("-9223372.036854775808"),
    Decimal("12345678901234567890.123456789012"),
    Decimal("-99999999999999999999999999.999999999999"),
    Decimal("100000000"),
    Decimal("123.4500"),
]


def _copy(dsn: str, ddl: str, encoder: BinaryRowEncoder, batch: pa.RecordBatch) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TEMP TABLE x ({ddl})")
        columns = ", ".join(encoder.field_names)
        with conn.cursor() as cur, cur.copy(f"COPY x ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(BINARY_HEADER)
            for offset in range(0, batch.num_rows, 7):  # several buffers, sliced batches
                copy.write(memoryview(encoder.encode(batch.slice(offset, 7)).rows))
            copy.write(BINARY_TRAILER)
        return conn.execute(f"SELECT {columns}, n::text FROM x ORDER BY k").fetchall()


def test_every_type_lands_exactly_as_its_value(pg_dsn: str) -> None:
    rng = random.Random(7)
    decimals = EDGE_DECIMALS + [
        Decimal(rng.randint(-(10**15), 10**15)).scaleb(-rng.randint(0, 12)) for _ in range(300)
    ]
    n = len(decimals)
    times = [None] + [
        datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=rng.randint(-(10**15), 10**15))
        for _ in range(n - 1)
    ]
    texts = [None if i % 7 == 0 else f"v{i}\t\\N\n'x' ü ✓ {i}" for i in range(n)]
    jsons = [None if i % 5 == 0 else '{"a": "b", "n": null}' for i in range(n)]
    flags = [None if i % 3 == 0 else i % 2 == 0 for i in range(n)]
    numbers = [None if i % 4 == 0 else (i - 150) * 1_000_003 for i in range(n)]
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array(decimals, DECIMAL_TYPE),
            pa.array(times, TIMESTAMP_TYPE),
            pa.array(texts),
            pa.array(jsons),
            pa.array(flags),
            pa.array(numbers, pa.int64()),
            pa.array(numbers, pa.int32()),
            pa.array(range(n), pa.int64()),
        ],
        names=["n", "t", "s", "j", "b", "i", "i4", "k"],
    )
    encoder = BinaryRowEncoder(batch.schema.names, jsonb_columns=["j"])
    ddl = "n numeric, t timestamptz, s text, j jsonb, b boolean, i bigint, i4 integer, k bigint"
    rows = _copy(pg_dsn, ddl, encoder, batch)
    assert len(rows) == n
    for row, d, t, s, j, b, i in zip(rows, decimals, times, texts, jsons, flags, numbers, strict=True):
        assert row[1] == t and row[2] == s and row[4] == b and row[5] == i and row[6] == i
        assert row[3] == (None if j is None else {"a": "b", "n": None})
        # exact (compared as text: psycopg's Decimal keeps 28 digits) and with the shortest exact scale, as
        # the text COPY path wrote it: 0.0333, not 0.033300000000
        assert row[8] == (None if d is None else ("0" if d == 0 else format(d.normalize(), "f")))


def test_constants_lead_and_the_fingerprint_ends_every_row(pg_dsn: str) -> None:
    batch = pa.RecordBatch.from_arrays([pa.array(["a", "b", None]), pa.array([1, 2, 3])], names=["s", "k"])
    encoder = BinaryRowEncoder(
        ["s", "k"], constants={"src": ("sync", "text"), "lid": (42, "int8")}, row_hash="h"
    )
    assert encoder.field_names == ["src", "lid", "s", "k", "h"]
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE x (src text, lid bigint, h bytea, s text, k bigint)")
        with conn.cursor() as cur, cur.copy("COPY x (src, lid, s, k, h) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(BINARY_HEADER)
            copy.write(memoryview(encoder.encode(batch).rows))
            copy.write(BINARY_TRAILER)
        rows = conn.execute("SELECT src, lid, h, s FROM x ORDER BY k").fetchall()
    hashes = encoder.fingerprints(batch).to_pylist()
    assert [(r[0], r[1], r[3]) for r in rows] == [("sync", 42, "a"), ("sync", 42, "b"), ("sync", 42, None)]
    assert [bytes(r[2]) for r in rows] == hashes
    assert len(set(hashes)) == 3 and all(len(h) == 16 for h in hashes)


def test_a_fingerprint_changes_with_any_value_and_only_then() -> None:
    def fingerprint(**values: Any) -> bytes:
        row = {"s": "x", "t": datetime(2026, 11, 20, tzinfo=UTC), "n": Decimal("0.0333"), "j": "{}"} | values
        batch = pa.RecordBatch.from_arrays(
            [
                pa.array([row["s"]]),
                pa.array([row["t"]], TIMESTAMP_TYPE),
                pa.array([row["n"]], DECIMAL_TYPE),
                pa.array([row["j"]]),
            ],
            names=["s", "t", "n", "j"],
        )
        return BinaryRowEncoder(["s", "t", "n", "j"], jsonb_columns=["j"]).fingerprints(batch)[0].as_py()

    base = fingerprint()
    assert fingerprint() == base  # deterministic
    assert fingerprint(n=Decimal("0.033300")) == base  # same number, same encoding
    for changed in (
        {"s": "y"},
        {"s": None},
        {"s": ""},
        {"t": datetime(2026, 11, 20, 0, 0, 0, 1, tzinfo=UTC)},
        {"n": Decimal("0.0334")},
        {"n": None},
        {"j": '{"a":"b"}'},
    ):
        assert fingerprint(**changed) != base, changed


@pytest.mark.parametrize(
    "value", [Decimal("1e30"), Decimal("-0.5"), Decimal("0"), Decimal("12.000000000010")]
)
def test_numeric_payload_is_what_postgres_sends_back(pg_dsn: str, value: Decimal) -> None:
    with psycopg.connect(pg_dsn) as conn:
        (sent,) = conn.execute("SELECT numeric_send(%s::numeric)", (str(value.normalize()),)).fetchone()
    assert numeric_payload(int(value.scaleb(12)), 12) == bytes(sent)

"""The Parquet lake: layout, re-runs replace instead of appending, interrupted writes change nothing."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from include.vonage_cdr.lake import Lake
from include.vonage_cdr.normalize import normalize_csv_stream
from include.vonage_cdr.products import get_product

SMS = get_product("SMS")
DAY = date(2026, 11, 20)


def csv_bytes(*rows: tuple[str, str]) -> bytes:
    header = '"account_id","id","date_received","currency","total_price"'
    lines = [header] + [f'"abcd1234","{i}","{t}","EUR","0.01"' for i, t in rows]
    return ("\n".join(lines) + "\n").encode()


def all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_layout_is_partitioned_by_product_and_day(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    assert lake.day_dir("SMS", DAY) == tmp_path / "lake" / "product=SMS" / "date=2026-11-20"
    assert lake.partition_file("SMS", DAY, "abcd1234", "outbound").name == "abcd1234-outbound.parquet"
    assert lake.partition_file("VOICE-CALL", DAY, "abcd1234", None).name == "abcd1234-all.parquet"
    with pytest.raises(ValueError, match="lake path"):
        lake.partition_file("SMS", DAY, "../etc", "outbound")


def test_rerun_replaces_the_days_file_and_its_quarantine(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    first = normalize_csv_stream(
        io.BytesIO(csv_bytes(("a", "2026-11-20T00:00:00Z"), ("b", "bad"))), SMS, target, source_name="1.csv"
    )
    assert first.quarantine_path is not None and first.quarantine_path.exists()
    second = normalize_csv_stream(
        io.BytesIO(csv_bytes(("c", "2026-11-20T00:00:00Z"))), SMS, target, source_name="2.csv"
    )
    assert second.quarantine_path is None
    assert lake.files("SMS", DAY) == [target]
    assert [r["id"] for r in pq.read_table(target).to_pylist()] == ["c"]  # replaced, not appended
    # the stale quarantine of the first run is gone too; nothing else lies around
    assert all_files(lake.root) == ["product=SMS/date=2026-11-20/abcd1234-outbound.parquet"]


class Boom(RuntimeError):
    pass


def exploding_rows():
    yield {
        "account_id": "a",
        "id": "x",
        "date_received": "2026-11-20T00:00:00Z",
        "currency": "",
        "total_price": 1,
    }
    raise Boom("connection dropped mid-way")


def test_interrupted_write_keeps_the_previous_file_and_leaves_no_temp_files(tmp_path: Path) -> None:
    from include.vonage_cdr.normalize import normalize_records

    lake = Lake(tmp_path / "lake")
    target = lake.partition_file("SMS", DAY, "abcd1234", "inbound")
    normalize_csv_stream(
        io.BytesIO(csv_bytes(("keep", "2026-11-20T00:00:00Z"))), SMS, target, source_name="x"
    )
    before = target.read_bytes()

    with pytest.raises(Boom):
        normalize_records(exploding_rows(), SMS, target, source_name="sync")

    assert target.read_bytes() == before
    assert all_files(lake.root) == ["product=SMS/date=2026-11-20/abcd1234-inbound.parquet"]
    assert lake.stale_temp_files() == []


def test_write_atomic_replaces_or_keeps(tmp_path: Path) -> None:
    lake = Lake(tmp_path)
    target = lake.day_dir("SMS", DAY) / "notes.txt"
    assert lake.write_atomic(target, lambda p: p.write_text("v1")) == 2
    assert target.read_text() == "v1"

    def half_then_fail(path: Path) -> None:
        path.write_text("partial")
        raise Boom("disk full")

    with pytest.raises(Boom):
        lake.write_atomic(target, half_then_fail)
    assert target.read_text() == "v1"
    assert all_files(tmp_path) == ["product=SMS/date=2026-11-20/notes.txt"]
    with pytest.raises(ValueError, match="outside the lake"):
        lake.write_atomic(tmp_path.parent / "elsewhere.txt", lambda p: p.write_text("x"))

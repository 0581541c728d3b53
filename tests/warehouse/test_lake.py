"""The Parquet lake: layout, re-runs replace instead of appending, interrupted writes change nothing.

Every behaviour is checked on both filesystems a lake can live on: a local directory and an S3 bucket on a
real S3-compatible server (moto's server mode, tests/fixtures/object_store.py).
"""

from __future__ import annotations

import io
import os
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from include.vonage_cdr.lake import Lake
from include.vonage_cdr.normalize import normalize_csv_stream
from include.vonage_cdr.products import get_product
from include.vonage_cdr.storage import AtomicOutput, LakePath, remove_stale_temp_siblings

SMS = get_product("SMS")
DAY = date(2026, 11, 20)


def csv_bytes(*rows: tuple[str, str]) -> bytes:
    lines = ['"id","date_received"'] + [f'"{i}","{t}"' for i, t in rows]
    return ("\n".join(lines) + "\n").encode()


def all_files(root: LakePath) -> list[str]:
    """Every file (object) under the root, relative to it; hidden temporary files included."""
    prefix = root.path.rstrip("/") + "/"
    return sorted(info.path[len(prefix) :] for info in root.walk())


def read_ids(path: LakePath) -> list[str]:
    return [r["id"] for r in pq.read_table(path.open_input_file()).to_pylist()]


@pytest.fixture(params=["local", "s3"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Lake:
    if request.param == "local":
        return Lake(tmp_path / "lake")
    server = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return Lake(f"s3://{bucket}/cdr/lake", s3=server.options())


def test_layout_is_partitioned_by_product_and_day(lake: Lake) -> None:
    assert lake.day_dir("SMS", DAY).url == f"{lake.url}/product=SMS/date=2026-11-20"
    assert lake.partition_file("SMS", DAY, "abcd1234", "outbound").name == "abcd1234-outbound.parquet"
    assert lake.partition_file("VOICE-CALL", DAY, "abcd1234", None).name == "abcd1234-all.parquet"
    with pytest.raises(ValueError, match="lake path"):
        lake.partition_file("SMS", DAY, "../etc", "outbound")


def test_a_local_lake_keeps_its_directory_layout(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    assert target.url == f"file://{tmp_path}/lake/product=SMS/date=2026-11-20/abcd1234-outbound.parquet"
    assert target.path == str(tmp_path / "lake/product=SMS/date=2026-11-20/abcd1234-outbound.parquet")
    assert Lake(f"file://{tmp_path}/lake").root == lake.root


def test_rerun_replaces_the_days_file_and_its_quarantine(lake: Lake) -> None:
    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    first = normalize_csv_stream(
        io.BytesIO(csv_bytes(("a", "2026-11-20T00:00:00Z"), ("b", "bad"))), SMS, target, source_name="1.csv"
    )
    assert isinstance(first.quarantine_path, LakePath) and first.quarantine_path.exists()
    assert sorted(all_files(lake.root)) == [
        "product=SMS/date=2026-11-20/_quarantine-abcd1234-outbound.jsonl",
        "product=SMS/date=2026-11-20/abcd1234-outbound.parquet",
    ]
    second = normalize_csv_stream(
        io.BytesIO(csv_bytes(("c", "2026-11-20T00:00:00Z"))), SMS, target, source_name="2.csv"
    )
    assert second.quarantine_path is None
    assert lake.files("SMS", DAY) == [target]
    assert read_ids(target) == ["c"]  # replaced, not appended
    # the stale quarantine of the first run is gone too; nothing else lies around
    assert all_files(lake.root) == ["product=SMS/date=2026-11-20/abcd1234-outbound.parquet"]


class Boom(RuntimeError):
    pass


def exploding_rows():
    yield {"id": "x", "date_received": "2026-11-20T00:00:00Z"}
    raise Boom("connection dropped mid-way")


def test_interrupted_write_keeps_the_previous_file_and_leaves_no_temp_files(lake: Lake) -> None:
    from include.vonage_cdr.normalize import normalize_records

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


def test_a_reader_during_a_write_sees_only_the_previous_complete_file(lake: Lake) -> None:
    """Mid-write (rows handed over, row groups flushed) the target still reads whole, with the old rows."""
    from include.vonage_cdr.normalize import BATCH_ROWS, normalize_records

    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    normalize_csv_stream(io.BytesIO(csv_bytes(("old", "2026-11-20T00:00:00Z"))), SMS, target, source_name="x")
    seen_mid_write: list[tuple[list[str], list[str]]] = []

    def rows():
        for i in range(3 * BATCH_ROWS):
            if i == 2 * BATCH_ROWS + 1:  # two row groups of the new file are written by now
                visible = [n for n in all_files(lake.root) if not os.path.basename(n).startswith(".")]
                seen_mid_write.append((read_ids(target), visible))
            yield {"id": f"new-{i}", "date_received": "2026-11-20T00:00:00Z"}

    result = normalize_records(rows(), SMS, target, source_name="sync")
    assert seen_mid_write == [(["old"], ["product=SMS/date=2026-11-20/abcd1234-outbound.parquet"])]
    assert result.rows_ok == 3 * BATCH_ROWS
    assert pq.ParquetFile(target.open_input_file()).metadata.num_rows == 3 * BATCH_ROWS


def test_write_atomic_replaces_or_keeps(lake: Lake, tmp_path: Path) -> None:
    target = lake.day_dir("SMS", DAY) / "notes.txt"
    assert lake.write_atomic(target, lambda out: out.write(b"v1")) == 2
    assert target.read_bytes() == b"v1"

    def half_then_fail(out) -> None:
        out.write(b"partial")
        raise Boom("disk full")

    with pytest.raises(Boom):
        lake.write_atomic(target, half_then_fail)
    assert target.read_bytes() == b"v1"
    assert all_files(lake.root) == ["product=SMS/date=2026-11-20/notes.txt"]
    outside = lake.root.parent / "elsewhere.txt"
    with pytest.raises(ValueError, match="outside the lake"):
        lake.write_atomic(outside, lambda out: out.write(b"x"))


def test_temporary_files_of_dead_writers_are_removed_by_the_next_write(lake: Lake) -> None:
    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    dead = AtomicOutput(target)
    dead.open().write(b"half a file")
    dead.open().close()  # as a killed process leaves it: a complete temporary object, never moved
    assert [p.name for p in lake.stale_temp_files()] == [dead.temp.name]
    assert lake.files("SMS", DAY) == []  # hidden from readers

    # younger than an hour: it may belong to a writer still running, so a write leaves it alone
    normalize_csv_stream(io.BytesIO(csv_bytes(("a", "2026-11-20T00:00:00Z"))), SMS, target, source_name="x")
    assert [p.name for p in lake.stale_temp_files()] == [dead.temp.name]
    if target.is_local:  # an hour later (a local file's clock can be set back; an object's cannot)
        old = time.time() - timedelta(hours=2).total_seconds()
        os.utime(dead.temp.path, (old, old))
        normalize_csv_stream(
            io.BytesIO(csv_bytes(("b", "2026-11-20T00:00:00Z"))), SMS, target, source_name="y"
        )
    else:
        # every temporary file counts as stale when the age limit lies in the future
        assert remove_stale_temp_siblings(target, older_than=-timedelta(minutes=5)) == [dead.temp.url]
    assert lake.stale_temp_files() == []
    assert lake.files("SMS", DAY) == [target]

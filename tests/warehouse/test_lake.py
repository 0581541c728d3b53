"""The Parquet lake: layout, re-runs replace instead of appending, interrupted writes change nothing.

Every lake behaviour is checked on both filesystems a lake can live on: a local directory and an S3 bucket on
a real S3-compatible server (moto's server mode, tests/fixtures/object_store.py).
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.vonage_cdr.lake import Lake
from include.vonage_cdr.normalize import BATCH_ROWS, NormalizeResult, normalize_csv_stream
from include.vonage_cdr.products import get_product
from include.vonage_cdr.storage import AtomicOutput, LakePath
from tests.faked_clock import FILE_AGES_REASON, UNDER_FAKETIME

SMS = get_product("SMS")
DAY = date(2026, 11, 20)


def csv_bytes(*rows: tuple[str, str]) -> bytes:
    header = '"account_id","id","date_received","currency","total_price"'
    lines = [header] + [f'"abcd1234","{i}","{t}","EUR","0.01"' for i, t in rows]
    return ("\n".join(lines) + "\n").encode()


def all_files(root: LakePath) -> list[str]:
    """Every file (object) under the root, relative to it; hidden temporary files included."""
    prefix = root.path.rstrip("/") + "/"
    return sorted(info.path[len(prefix) :] for info in root.walk())


def read_ids(path: LakePath) -> list[str]:
    return [r["id"] for r in pq.read_table(path.open_input_file()).to_pylist()]


def normalized(work: Path, name: str, *rows: tuple[str, str]) -> NormalizeResult:
    """What the daily load does first: normalize into its local work directory."""
    work.mkdir(parents=True, exist_ok=True)
    return normalize_csv_stream(io.BytesIO(csv_bytes(*rows)), SMS, work / name, source_name=f"{name}.csv")


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
    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    assert lake.locate(target.url) == target  # what XCom carries leads back to the file
    with pytest.raises(ValueError, match="outside the lake"):
        lake.locate(lake.root.parent.url + "/elsewhere.parquet")


def test_a_local_lake_keeps_its_directory_layout(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    assert target.url == f"file://{tmp_path}/lake/product=SMS/date=2026-11-20/abcd1234-outbound.parquet"
    assert target.path == str(tmp_path / "lake/product=SMS/date=2026-11-20/abcd1234-outbound.parquet")
    assert Lake(f"file://{tmp_path}/lake").root == lake.root


def test_publishing_again_replaces_the_days_file_and_its_quarantine(lake: Lake, tmp_path: Path) -> None:
    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    first = normalized(tmp_path / "w1", target.name, ("a", "2026-11-20T00:00:00Z"), ("b", "bad"))
    assert first.quarantine_path is not None
    lake.publish(target, first.parquet_path, first.quarantine_path)
    assert all_files(lake.root) == [
        "product=SMS/date=2026-11-20/_quarantine-abcd1234-outbound.jsonl",
        "product=SMS/date=2026-11-20/abcd1234-outbound.parquet",
    ]
    assert b'"line_number": 3' in lake.quarantine_file("SMS", DAY, "abcd1234", "outbound").read_bytes()

    second = normalized(tmp_path / "w2", target.name, ("c", "2026-11-20T00:00:00Z"))
    assert second.quarantine_path is None
    lake.publish(target, second.parquet_path, second.quarantine_path)
    assert lake.files("SMS", DAY) == [target]
    assert read_ids(target) == ["c"]  # replaced, not appended
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


def test_an_interrupted_normalization_keeps_the_previous_file_and_leaves_no_temp_files(
    tmp_path: Path,
) -> None:
    from include.vonage_cdr.normalize import normalize_records

    target = tmp_path / "work" / "abcd1234-inbound.parquet"
    normalized(target.parent, target.name, ("keep", "2026-11-20T00:00:00Z"))
    before = target.read_bytes()

    with pytest.raises(Boom):
        normalize_records(exploding_rows(), SMS, target, source_name="sync")

    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_write_atomic_replaces_or_keeps(lake: Lake) -> None:
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
    assert lake.stale_temp_files() == []
    outside = lake.root.parent / "elsewhere.txt"
    with pytest.raises(ValueError, match="outside the lake"):
        lake.write_atomic(outside, lambda out: out.write(b"x"))


def test_a_reader_during_a_write_sees_only_the_previous_complete_file(lake: Lake, tmp_path: Path) -> None:
    """Mid-write (row groups flushed to the store) the target still reads whole, with the old rows."""
    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    old = normalized(tmp_path / "w", target.name, ("old", "2026-11-20T00:00:00Z"))
    lake.publish(target, old.parquet_path, None)
    one = pq.read_table(target.open_input_file())
    new_rows = pa.concat_tables([one] * (3 * BATCH_ROWS)).combine_chunks()
    ids = pa.array([f"new-{i}" for i in range(new_rows.num_rows)], new_rows.schema.field("id").type)
    new_rows = new_rows.set_column(new_rows.schema.get_field_index("id"), "id", ids)

    out = AtomicOutput(target)
    writer = pq.ParquetWriter(out.open(), new_rows.schema)
    writer.write_table(new_rows.slice(0, 2 * BATCH_ROWS), row_group_size=BATCH_ROWS)  # two row groups out
    visible = [n for n in all_files(lake.root) if not n.rsplit("/", 1)[-1].startswith(".")]
    assert (read_ids(target), visible) == (["old"], ["product=SMS/date=2026-11-20/abcd1234-outbound.parquet"])
    writer.write_table(new_rows.slice(2 * BATCH_ROWS), row_group_size=BATCH_ROWS)
    writer.close()
    out.commit()
    assert read_ids(target)[:2] == ["new-0", "new-1"] and len(read_ids(target)) == 3 * BATCH_ROWS
    assert lake.stale_temp_files() == []


def test_temporary_files_of_a_killed_writer_are_removed_by_the_next_attempt(lake: Lake) -> None:
    if UNDER_FAKETIME and lake.root.url.startswith("s3://"):
        pytest.skip(FILE_AGES_REASON)
    target = lake.partition_file("SMS", DAY, "abcd1234", "outbound")
    dead = [AtomicOutput(target), AtomicOutput(lake.quarantine_file("SMS", DAY, "abcd1234", "outbound"))]
    for output in dead:
        output.open().write(b"half a file")
        output.open().close()  # as a killed process leaves it: a complete temporary object, never moved
    other = AtomicOutput(lake.partition_file("SMS", DAY, "abcd1234", "inbound"))  # another partition's
    other.open().close()
    assert sorted(p.name for p in lake.stale_temp_files()) == sorted(o.temp.name for o in [*dead, other])
    assert lake.files("SMS", DAY) == []  # hidden from readers

    # an attempt that started before they were written leaves them: they may belong to a live writer
    assert lake.remove_stale_temp_files(target, before=datetime.now(UTC) - timedelta(hours=1)) == []
    # the next attempt, started after them, removes this partition's and only this partition's
    removed = lake.remove_stale_temp_files(target, before=datetime.now(UTC) + timedelta(minutes=5))
    assert sorted(removed) == sorted(o.temp.url for o in dead)
    assert [p.name for p in lake.stale_temp_files()] == [other.temp.name]

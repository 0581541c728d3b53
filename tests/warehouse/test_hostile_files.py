"""Files no honest report looks like: bytes that are not UTF-8, decompression bombs, endless lines.

What a billing team needs: one bad row never costs the day (it is quarantined with its exact bytes and the
rest loads), and no file can exhaust the worker's memory; every refusal names the file, the member and the
limit. Bombs are generated in the test, streaming, from one compressed block repeated (deflate after a full
flush does not depend on earlier data), so the test itself stays small and fast.
"""

from __future__ import annotations

import base64
import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from include.vonage_cdr.client.errors import DownloadTooLarge
from include.vonage_cdr.normalize import normalize_csv_stream, normalize_zip
from include.vonage_cdr.normalize.errors import RecordTooLong
from include.vonage_cdr.normalize.limits import ReadLimits
from include.vonage_cdr.normalize.utf8 import Utf8Escaper, unescape
from include.vonage_cdr.products import get_product

ROOT = Path(__file__).resolve().parents[2]
SMS = get_product("SMS")
MIB = 1024 * 1024
HEADER = b'"account_id","id","date_received","currency","total_price","message_body"\n'


def line(record_id: str, body: bytes) -> bytes:
    return b'"abcd1234","' + record_id.encode() + b'","2026-11-20T10:00:00Z","EUR","0.01","' + body + b'"'


def quarantine_rows(path: Path | None) -> list[dict]:
    assert path is not None
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def write_repeated_zip(path: Path, member: str, pieces: Iterable[tuple[bytes, int]]) -> int:
    """A ZIP with one deflated member made of each piece repeated ``count`` times; returns its size."""
    blocks, crc, size = [], 0, 0
    for piece, count in pieces:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        blocks.append((compressor.compress(piece) + compressor.flush(zlib.Z_FULL_FLUSH), count))
        for _ in range(count):
            crc = zlib.crc32(piece, crc)
        size += len(piece) * count
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    compressed = sum(len(b) * n for b, n in blocks) + len(final)
    name = member.encode()
    stamp = (0, 33)  # 00:00:00, 1980-01-01
    with path.open("wb") as fh:
        fh.write(
            struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, *stamp, crc, compressed, size, len(name), 0)
        )
        fh.write(name)
        for block, count in blocks:
            for _ in range(count):
                fh.write(block)
        fh.write(final)
        directory = fh.tell()
        central = (0x02014B50, 20, 20, 0, 8, *stamp, crc, compressed, size, len(name), 0, 0, 0, 0, 0, 0)
        fh.write(struct.pack("<IHHHHHHIIIHHHHHII", *central))
        fh.write(name)
        end = fh.tell()
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, end - directory, directory, 0))
    return path.stat().st_size


# -- bytes that are not UTF-8 -------------------------------------------------------------------------------
def test_rows_that_are_not_utf8_are_quarantined_with_their_exact_bytes_and_the_rest_loads(
    tmp_path: Path,
) -> None:
    bad_value = line("bad1", b"caf\xe9 cr\xe8me")  # Latin-1, not UTF-8
    bad_fields = b'"\xff\xfe garbage","x"'  # not UTF-8 and the wrong number of fields
    genuine = line("ok2", "noncharacter \ufffe kept".encode())
    data = b"\n".join(
        [HEADER.rstrip(b"\n"), line("ok1", b"fine"), bad_value, bad_fields, genuine, line("ok3", b"")]
    )
    zip_path = tmp_path / "SMS_r.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("report.csv", data + b"\n")

    result = normalize_zip(zip_path, SMS, tmp_path / "out.parquet")

    assert (result.rows_read, result.rows_ok, result.rows_quarantined) == (5, 3, 2)
    rows = {r["id"]: r["message_body"] for r in pq.read_table(result.parquet_path).to_pylist()}
    assert rows == {"ok1": "fine", "ok2": "noncharacter \ufffe kept", "ok3": None}
    by_line = {q["line_number"]: q for q in quarantine_rows(result.quarantine_path)}
    assert set(by_line) == {3, 4}
    value, fields = by_line[3], by_line[4]
    assert value["reason"] == "SMS_r.zip/report.csv line 3: not valid UTF-8 (in message_body)"
    assert value["source"] == "SMS_r.zip/report.csv"
    assert base64.b64decode(value["raw_bytes_b64"]) == bad_value  # reproducible, byte for byte
    assert value["raw_line"] == bad_value.decode("utf-8", "backslashreplace")
    assert fields["reason"].endswith("; not valid UTF-8") and "wrong number of fields" in fields["reason"]
    assert base64.b64decode(fields["raw_bytes_b64"]) == bad_fields


def test_a_header_that_is_not_utf8_fails_naming_the_file(tmp_path: Path) -> None:
    from include.vonage_cdr.normalize.errors import MalformedFile

    data = b'"account_id","id\xff"\n"a","b"\n'
    with pytest.raises(MalformedFile, match=r"^h\.csv: the header is not valid UTF-8"):
        normalize_csv_stream(io.BytesIO(data), SMS, tmp_path / "h.parquet", source_name="h.csv")


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 4096])
def test_escaping_is_exact_and_reversible_at_any_chunk_boundary(chunk: int) -> None:
    original = "ok ✓ 你好 😀 \ufffe--".encode() + b"\xff\xc3(\xe2\x82" + "€".encode() + b"\xf0\x9f"
    escaper = Utf8Escaper(io.BytesIO(original), chunk_bytes=chunk)
    escaped = escaper.read()
    escaped.decode("utf-8")  # always valid UTF-8
    assert escaper.escaped and unescape(escaped) == original
    clean = "ok ✓ 你好 😀".encode()
    plain = Utf8Escaper(io.BytesIO(clean), chunk_bytes=chunk)
    assert plain.read() == clean and not plain.escaped


# -- size and line-length caps ------------------------------------------------------------------------------
def test_a_zip_bomb_is_refused_before_anything_is_inflated(tmp_path: Path) -> None:
    bomb = tmp_path / "SMS_bomb.zip"
    size = write_repeated_zip(bomb, "report.csv", [(b"a" * MIB, 1536)])  # 1.5 GiB, no newline
    assert size < 2 * MIB
    with pytest.raises(DownloadTooLarge) as caught:
        normalize_zip(bomb, SMS, tmp_path / "out.parquet")
    message = str(caught.value)
    assert message.startswith("SMS_bomb.zip: member 'report.csv' would decompress from ")
    assert "1610612736 bytes" in message and "past the cap of 100:1" in message
    assert list(tmp_path.iterdir()) == [bomb]

    with pytest.raises(
        DownloadTooLarge, match=r"^SMS_bomb\.zip: declared decompressed size 1610612736 bytes "
    ):
        normalize_zip(
            bomb,
            SMS,
            tmp_path / "out.parquet",
            limits=ReadLimits(max_decompressed_bytes=1024 * MIB, max_compression_ratio=10_000),
        )


CHILD = """
import json, resource, sys
from pathlib import Path
from include.vonage_cdr.normalize import normalize_zip
from include.vonage_cdr.normalize.errors import RecordTooLong
from include.vonage_cdr.normalize.limits import ReadLimits
from include.vonage_cdr.products import get_product
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    normalize_zip(Path(sys.argv[1]), get_product("SMS"), Path(sys.argv[2]),
                  limits=ReadLimits(max_compression_ratio=10_000))  # ratio cap off: the line cap must hold
    error = None
except RecordTooLong as exc:
    error = str(exc)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"error": error, "growth_mib": (peak - base) / 1024}))
"""


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (
            [(b"a" * MIB, 1536)],
            "SMS_long.zip/report.csv: line 1 is longer than the limit of 1048576 bytes",
        ),
        (
            [(HEADER, 1), (b'"abcd1234","' + b"a" * (MIB - 12), 1), (b"a" * MIB, 1535)],
            "SMS_long.zip/report.csv: line 2 is longer than the limit of 1048576 bytes",
        ),
    ],
    ids=["header", "record"],
)
def test_a_line_without_end_is_refused_naming_member_and_limit_in_bounded_memory(
    tmp_path: Path, pieces: list[tuple[bytes, int]], expected: str
) -> None:
    """1.5 GiB without a newline, read by a child process whose peak memory is its own."""
    zip_path = tmp_path / "SMS_long.zip"
    write_repeated_zip(zip_path, "report.csv", pieces)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(zip_path), str(tmp_path / "out.parquet")],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\n{figures}")
    assert figures["error"] is not None and figures["error"].startswith(expected), figures
    assert figures["growth_mib"] < 200, figures  # the member is 1536 MiB; reading it whole would show
    assert not (tmp_path / "out.parquet").exists()


def test_a_record_spread_over_many_short_lines_is_refused_too(tmp_path: Path) -> None:
    body = b"x\n" * MIB  # 2 MiB inside one quoted value: every physical line is short
    data = HEADER + line("ok1", b"fine") + b"\n" + line("huge", body) + b"\n" + line("ok2", b"") + b"\n"
    with pytest.raises(
        RecordTooLong, match=r"^big\.csv: a record after line \d+ is longer than the limit of 1048576"
    ):
        normalize_csv_stream(io.BytesIO(data), SMS, tmp_path / "big.parquet", source_name="big.csv")
    assert list(tmp_path.iterdir()) == []  # neither output nor temporary files


def test_the_line_limit_is_configurable_and_exact(tmp_path: Path) -> None:
    limits = ReadLimits(max_record_bytes=2048)
    ok = HEADER + line("a", b"y" * (2048 - len(line("a", b"")))) + b"\n"
    result = normalize_csv_stream(
        io.BytesIO(ok), SMS, tmp_path / "ok.parquet", source_name="ok.csv", limits=limits
    )
    assert result.rows_ok == 1
    long = HEADER + line("a", b"y" * 5000) + b"\n" + line("b", b"") + b"\n"
    with pytest.raises(RecordTooLong, match=r"^l\.csv: line 2 is longer than the limit of 2048 bytes"):
        normalize_csv_stream(
            io.BytesIO(long), SMS, tmp_path / "l.parquet", source_name="l.csv", limits=limits
        )

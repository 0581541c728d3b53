"""ZIP safety with hand-made archives: traversal, bombs, CRC, HTML/JSON bodies, every CSV member."""

from __future__ import annotations

import csv
import io
import struct
import zipfile
from pathlib import Path

import pytest

from include.vonage_cdr.client.archive import open_csv_members, verify_zip
from include.vonage_cdr.client.errors import (
    CorruptArchive,
    DownloadTooLarge,
    UnexpectedContent,
    UnsafeArchive,
)


def make_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def read_all(path: Path, **kwargs) -> dict[str, list[list[str]]]:
    out = {}
    with open_csv_members(path, **kwargs) as members:
        for name, stream in members:
            out[name] = list(csv.reader(io.TextIOWrapper(stream, "utf-8", newline="")))
    return out


def test_every_csv_member_is_read_and_other_members_skipped(tmp_path: Path) -> None:
    zip_path = make_zip(
        tmp_path / "SMS_r1.zip",
        {
            "report_SMS_abcd1234_20261120.csv": b'"id","status"\n"a","delivered"\n',
            "report_SMS_subacct1_20261120.csv": b'"id","status"\n"b","failed"\n"c","delivered"\n',
            "README.txt": b"not a csv",
        },
    )
    rows = read_all(zip_path)
    assert sorted(rows) == ["report_SMS_abcd1234_20261120.csv", "report_SMS_subacct1_20261120.csv"]
    assert rows["report_SMS_subacct1_20261120.csv"][1:] == [["b", "failed"], ["c", "delivered"]]
    assert verify_zip(zip_path) == sorted(rows)


@pytest.mark.parametrize(
    "name", ["../evil.csv", "/etc/passwd.csv", "a/../../b.csv", "C:\\x.csv", "a\\..\\b.csv"]
)
def test_path_traversal_names_are_refused(tmp_path: Path, name: str) -> None:
    zip_path = make_zip(tmp_path / "bad.zip", {name: b"x"})
    with pytest.raises(UnsafeArchive, match="unsafe ZIP member name"):
        read_all(zip_path)


def test_zip_bomb_is_refused_before_decompressing(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "bomb.zip", {"big.csv": b"0" * 5_000_000})
    assert zip_path.stat().st_size < 20_000
    with pytest.raises(DownloadTooLarge, match="exceeds the cap"):
        read_all(zip_path, max_uncompressed_bytes=1_000_000)


def test_too_many_members_are_refused(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "many.zip", {f"{i}.csv": b"x" for i in range(12)})
    with pytest.raises(UnsafeArchive, match="exceed the cap"):
        read_all(zip_path, max_members=10)


def test_crc_mismatch_is_detected(tmp_path: Path) -> None:
    data = b'"id"\n' + b'"x"\n' * 1000
    zip_path = tmp_path / "crc.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("r.csv", data)
    raw = bytearray(zip_path.read_bytes())
    offset = raw.index(b'"x"')
    raw[offset + 1] = ord("y")  # same length, different CRC
    zip_path.write_bytes(bytes(raw))
    with pytest.raises(CorruptArchive, match="CRC"):
        verify_zip(zip_path)


def test_truncated_zip_is_corrupt(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "t.zip", {"r.csv": bytes(range(256)) * 400})
    zip_path.write_bytes(zip_path.read_bytes()[: zip_path.stat().st_size // 2])
    with pytest.raises(CorruptArchive):
        verify_zip(zip_path)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"<!DOCTYPE html><html><body>Sign in</body></html>", "html"),
        (b'{"type":"https://developer.nexmo.com/api-errors#unauthorized","title":"Unauthorized"}', "json"),
    ],
)
def test_html_or_json_instead_of_zip_is_reported_as_such(tmp_path: Path, body: bytes, kind: str) -> None:
    path = tmp_path / "x.zip"
    path.write_bytes(body)
    with pytest.raises(UnexpectedContent, match=f"expected a ZIP but got {kind.upper()}") as info:
        read_all(path)
    assert info.value.content_kind == kind


def test_encrypted_members_are_refused(tmp_path: Path) -> None:
    zip_path = make_zip(tmp_path / "enc.zip", {"r.csv": b"x"})
    raw = bytearray(zip_path.read_bytes())
    # set the "encrypted" flag bit in the local header and the central directory entry
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        pos = raw.index(sig)
        flag_at = pos + (6 if sig == b"PK\x03\x04" else 8)
        (flags,) = struct.unpack_from("<H", raw, flag_at)
        struct.pack_into("<H", raw, flag_at, flags | 1)
    zip_path.write_bytes(bytes(raw))
    with pytest.raises(UnsafeArchive, match="encrypted"):
        read_all(zip_path)

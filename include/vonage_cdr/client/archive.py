"""Safe reading of a report ZIP.

A report file comes from the network, so it is treated as hostile: member names are checked against path
traversal (we never extract, but names flow into logs and file names downstream), the declared
decompressed size is capped before anything is decompressed (``zipfile`` never yields more than the
declared size, so the declared sum bounds the real output), a large member that would inflate more than
``max_compression_ratio`` times its compressed size (a decompression bomb; CSV compresses about 5:1) is
refused before it is read, CRCs are verified while streaming, and a
body that is HTML or JSON (an error page or a problem JSON served with 200) is reported as such.
All ``.csv`` members are read, not just the first (contract §3.6: "Zip file containing CSV files").
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO

from include.vonage_cdr.client.errors import (
    CorruptArchive,
    DownloadError,
    DownloadTooLarge,
    UnexpectedContent,
    UnsafeArchive,
)

DEFAULT_MAX_UNCOMPRESSED = 32 * 1024**3
DEFAULT_MAX_MEMBERS = 1000
DEFAULT_MAX_COMPRESSION_RATIO = 100.0
#: members below this decompressed size are never refused for their ratio (they cannot hurt)
RATIO_CHECK_MIN_BYTES = 64 * 1024**2


def sniff_content(head: bytes) -> str:
    """Classify the first bytes of a body: ``zip``, ``html``, ``json`` or ``other``."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml", b"<")):
        return "html"
    if text.startswith((b"{", b"[")):
        return "json"
    return "other"


def unexpected_content_error(head: bytes, where: str) -> DownloadError:
    kind = sniff_content(head)
    if kind in ("html", "json"):
        snippet = head[:120].decode("utf-8", "replace").replace("\n", " ")
        return UnexpectedContent(
            f"{where}: expected a ZIP but got {kind.upper()} ({snippet!r}...)", content_kind=kind
        )
    return DownloadError(f"{where}: the body is not a ZIP archive")


def check_member_name(name: str) -> None:
    """Reject names that are absolute, contain ``..``, backslashes, drive letters or control chars."""
    if not name or "\x00" in name or "\\" in name or any(ord(c) < 32 for c in name):
        raise UnsafeArchive(f"unsafe ZIP member name {name!r}")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"unsafe ZIP member name {name!r} (path traversal)")


def _csv_members(
    zf: zipfile.ZipFile, path: Path, max_uncompressed: int, max_members: int, max_ratio: float | None
) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > max_members:
        raise UnsafeArchive(f"{path.name}: {len(infos)} members exceed the cap of {max_members}")
    total = 0
    for info in infos:
        check_member_name(info.filename)
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"{path.name}: member {info.filename!r} is encrypted")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if max_ratio is not None and info.file_size >= RATIO_CHECK_MIN_BYTES and ratio > max_ratio:
            raise DownloadTooLarge(
                f"{path.name}: member {info.filename!r} would decompress from {info.compress_size} to "
                f"{info.file_size} bytes ({ratio:.0f}:1), past the cap of {max_ratio:.0f}:1 "
                "(a decompression bomb or a damaged file)"
            )
    if total > max_uncompressed:
        largest = max(infos, key=lambda i: i.file_size)
        raise DownloadTooLarge(
            f"{path.name}: declared decompressed size {total} bytes exceeds the cap of {max_uncompressed} "
            f"(largest member {largest.filename!r}: {largest.file_size} bytes)"
        )
    members = [i for i in infos if not i.is_dir() and i.filename.lower().endswith(".csv")]
    return sorted(members, key=lambda i: i.filename)


def _open_zip(path: Path) -> zipfile.ZipFile:
    with path.open("rb") as fh:
        head = fh.read(512)
    if sniff_content(head) != "zip":
        raise unexpected_content_error(head, path.name)
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as exc:
        raise CorruptArchive(f"{path.name}: corrupt ZIP ({exc})") from None


class _GuardedReader(io.RawIOBase):
    """Wraps a member stream: turns CRC/format errors into ``CorruptArchive``."""

    def __init__(self, inner: IO[bytes], name: str) -> None:
        self._inner = inner
        self._name = name

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except zipfile.BadZipFile as exc:
            if "CRC" in str(exc):
                raise CorruptArchive(f"member {self._name!r}: CRC mismatch, the file is corrupt") from None
            raise CorruptArchive(f"member {self._name!r}: corrupt data ({exc})") from None
        except (EOFError, OSError, ValueError, zlib.error) as exc:  # truncated/garbled deflate streams
            raise CorruptArchive(f"member {self._name!r}: corrupt data ({exc})") from None
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


@contextmanager
def open_csv_members(
    path: Path | str,
    *,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED,
    max_members: int = DEFAULT_MAX_MEMBERS,
    max_compression_ratio: float | None = DEFAULT_MAX_COMPRESSION_RATIO,
) -> Iterator[Iterator[tuple[str, IO[bytes]]]]:
    """Yield an iterator of ``(member_name, binary stream)`` for every ``.csv`` member, in name order.

    Streams are buffered and read lazily (memory does not grow with the file); a CRC mismatch raises
    ``CorruptArchive`` when the member's end is reached. Each stream is closed when the iteration moves
    on to the next member. Usage::

        with open_csv_members(zip_path) as members:
            for name, stream in members:
                for row in csv.reader(io.TextIOWrapper(stream, "utf-8", newline="")): ...
    """
    zip_path = Path(path)
    zf = _open_zip(zip_path)
    try:
        members = _csv_members(zf, zip_path, max_uncompressed_bytes, max_members, max_compression_ratio)

        def iterate() -> Iterator[tuple[str, IO[bytes]]]:
            for info in members:
                try:
                    inner = zf.open(info)
                except (zipfile.BadZipFile, NotImplementedError, OSError) as exc:
                    raise CorruptArchive(f"{zip_path.name}: cannot open {info.filename!r} ({exc})") from None
                stream = io.BufferedReader(_GuardedReader(inner, info.filename), buffer_size=256 * 1024)
                try:
                    yield info.filename, stream
                finally:
                    stream.close()

        yield iterate()
    finally:
        zf.close()


def verify_zip(
    path: Path | str,
    *,
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED,
    max_members: int = DEFAULT_MAX_MEMBERS,
    max_compression_ratio: float | None = DEFAULT_MAX_COMPRESSION_RATIO,
) -> list[str]:
    """Read every CSV member once (CRC checked) and return their names; raises on any problem."""
    names = []
    with open_csv_members(
        path,
        max_uncompressed_bytes=max_uncompressed_bytes,
        max_members=max_members,
        max_compression_ratio=max_compression_ratio,
    ) as it:
        for name, stream in it:
            while stream.read(1024 * 1024):
                pass
            names.append(name)
    return names

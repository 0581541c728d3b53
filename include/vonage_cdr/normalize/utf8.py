"""Bytes that are not UTF-8, made visible without failing the file.

Why: the CSV reader needs valid UTF-8. A single bad byte used to fail the whole report with a reader error
naming no file, and every retry failed the same way. Instead the byte stream passes through
:class:`Utf8Escaper` on its way to the reader, which replaces every byte that is not part of valid UTF-8 by a
marker the reader accepts: U+FFFE (a Unicode noncharacter, never found in real text) followed by the byte in
two upper-case hex digits. A genuine U+FFFE in the input is escaped too (U+FFFE followed by ``--``), so the
escaping is exact and reversible: :func:`unescape` gives back the original bytes.

The normalizer then quarantines every record holding an escaped byte with its exact bytes (and loads the
rest); a record holding only genuine U+FFFE characters is un-escaped and loads unchanged.

Cost on clean data: one C-level UTF-8 validation and one substring search per chunk; the slow path runs
only on chunks that hold bad bytes. A record's bad bytes grow five-fold when escaped (1 byte -> 5 bytes),
which counts against the record length limit.
"""

from __future__ import annotations

import codecs
import io
import re
from typing import BinaryIO

__all__ = ["MARK", "Utf8Escaper", "has_escaped_bytes", "unescape", "unescape_text"]

MARK = "\ufffe"
_MARK_BYTES = MARK.encode()
_LITERAL = MARK + "--"
_SURROGATE = re.compile("[\udc80-\udcff]")
_ESCAPED_BYTE = re.compile(MARK + "[0-9A-F]{2}")
_ESCAPE_BYTES = re.compile(re.escape(_MARK_BYTES) + b"(--|[0-9A-F]{2})")
_ESCAPE_TEXT = re.compile(MARK + "(--|[0-9A-F]{2})")
CHUNK_BYTES = 256 * 1024


def has_escaped_bytes(text: str) -> bool:
    """Whether ``text`` (from an escaped stream) holds at least one byte that was not valid UTF-8."""
    return _ESCAPED_BYTE.search(text) is not None


def unescape(data: bytes) -> bytes:
    """The original bytes of escaped data."""
    return _ESCAPE_BYTES.sub(lambda m: _MARK_BYTES if m[1] == b"--" else bytes([int(m[1], 16)]), data)


def unescape_text(text: str) -> str:
    """Escaped text without invalid bytes (only genuine U+FFFE escapes) back to the original text."""
    return _ESCAPE_TEXT.sub(lambda m: MARK if m[1] == "--" else m[0], text)


class Utf8Escaper(io.RawIOBase):
    """A readable stream of valid UTF-8: ``inner``'s bytes with invalid ones escaped (see the module doc).

    ``escaped`` turns True once any escape was written, so a reader can skip all checks on clean files.
    """

    def __init__(self, inner: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._inner = inner
        self._chunk_bytes = chunk_bytes
        self._pending = b""  # the tail of the last chunk: an incomplete UTF-8 sequence
        self._out = bytearray()
        self._eof = False
        self.escaped = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._out and not self._eof:
            self._fill()
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        del self._out[:n]
        return n

    def _fill(self) -> None:
        chunk = self._inner.read(self._chunk_bytes)
        final = not chunk
        self._eof = final
        data = self._pending + chunk if self._pending else chunk
        if not data:
            return
        try:
            _, used = codecs.utf_8_decode(data, "strict", final)
        except UnicodeDecodeError:
            self._out += self._escape_slow(data, final)
            return
        valid, self._pending = data[:used], data[used:]
        if _MARK_BYTES in valid:
            valid = valid.replace(_MARK_BYTES, _LITERAL.encode())
            self.escaped = True
        self._out += valid

    def _escape_slow(self, data: bytes, final: bool) -> bytes:
        text, used = codecs.utf_8_decode(data, "surrogateescape", final)
        self._pending = data[used:]
        text = text.replace(MARK, _LITERAL)
        text = _SURROGATE.sub(lambda m: f"{MARK}{ord(m[0]) - 0xDC00:02X}", text)
        self.escaped = True
        return text.encode("utf-8")

    def close(self) -> None:
        self._inner.close()
        super().close()

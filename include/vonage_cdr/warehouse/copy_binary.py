"""Record batches as PostgreSQL binary COPY rows, built with Arrow and numpy kernels (no Python per value).

Why binary and not text: PostgreSQL parses a text timestamp or decimal in its single backend, which is the
bottleneck of a load; the binary form of a timestamp is the integer it stores and of a decimal its base-10000
digits, so the server does less per row (measured: about a third less backend CPU for the COPY itself,
docs/performance.md). Building the binary form is cheap here too: every column becomes one or two Arrow
binary arrays (a 4-byte big-endian length, then the value) and one element-wise join per batch lays the rows
out, so memory holds one batch at a time.

The encoding follows PostgreSQL's ``*_recv`` functions (the COPY BINARY format): ``int16`` field count per
row, then per field ``int32`` length (``-1`` for NULL) and the value. Values are exactly what the text path
sent: a decimal keeps the scale of its shortest text (``0.0333``, not ``0.033300000000``), so a value loaded
through either path compares equal, byte for byte, to the other.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "BINARY_HEADER",
    "BINARY_TRAILER",
    "HASH_BYTES",
    "BinaryRowEncoder",
    "Encoded",
    "numeric_payload",
    "row_hashes",
]

#: the COPY BINARY signature, flags (0) and header-extension length (0)
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
BINARY_TRAILER = struct.pack("!h", -1)

_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z in microseconds since 1970
_NUMERIC_NEG = 0x4000
_NULL = np.array([-1], dtype=">i4").tobytes()
#: bytes of a row fingerprint (BLAKE2b digest size)
HASH_BYTES = 16


def _as_binary(values: pa.Array) -> pa.Array:
    if pa.types.is_large_string(values.type) or pa.types.is_large_binary(values.type):
        values = pc.cast(values, pa.large_binary())
        return pc.cast(values, pa.binary())
    return values.cast(pa.binary())  # zero-copy for string


def _binary_from(data: bytes | np.ndarray, lengths: np.ndarray) -> pa.Array:
    """A binary array of ``len(lengths)`` elements laid out back to back in ``data``."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    buffer = pa.py_buffer(data if isinstance(data, bytes) else np.ascontiguousarray(data).tobytes())
    return pa.Array.from_buffers(pa.binary(), len(lengths), [None, pa.py_buffer(offsets.tobytes()), buffer])


def _valid_mask(values: pa.Array) -> np.ndarray:
    if values.null_count == 0:
        return np.ones(len(values), dtype=bool)
    return np.asarray(pc.is_valid(values).to_numpy(zero_copy_only=False), dtype=bool)


#: a piece of every row: a fixed-width block (numpy uint8, one row per element), or a binary array (one
#: element per row, any width). Consecutive blocks are laid side by side before the rows are joined, so the
#: element-wise join (the costly step: one copy per argument and row) sees as few arguments as possible.
Piece = np.ndarray | pa.Array


def _fixed(values: pa.Array, payload: np.ndarray) -> Piece:
    """Length prefix + fixed-width big-endian payload per element (NULL: the prefix -1 alone)."""
    n = len(values)
    width = payload.dtype.itemsize
    rows = np.empty((n, 4 + width), dtype=np.uint8)
    rows[:, :4] = np.frombuffer(np.array([width], dtype=">i4").tobytes(), dtype=np.uint8)
    rows[:, 4:] = payload.view(np.uint8).reshape(n, width)
    valid = _valid_mask(values)
    if valid.all():
        return rows
    rows[~valid, :4] = np.frombuffer(_NULL, dtype=np.uint8)
    keep = np.ones((n, 4 + width), dtype=bool)
    keep[~valid, 4:] = False
    return _binary_from(rows[keep].tobytes(), np.where(valid, 4 + width, 4).astype(np.int32))


def _prefix(lengths: np.ndarray, valid: np.ndarray) -> np.ndarray:
    prefix = np.where(valid, lengths, -1).astype(">i4")
    return prefix.view(np.uint8).reshape(len(lengths), 4)


def _string_fields(values: pa.Array, *, jsonb: bool) -> list[Piece]:
    valid = _valid_mask(values)
    if not valid.any():
        return [np.tile(np.frombuffer(_NULL, dtype=np.uint8), (len(values), 1))]
    data = _as_binary(values)
    lengths = pc.fill_null(pc.binary_length(data), 0).to_numpy(zero_copy_only=False).astype(np.int32)
    if values.null_count:
        data = pc.fill_null(data, b"")
    pieces: list[Piece] = []
    if not jsonb:
        pieces.append(_prefix(lengths, valid))
    elif valid.all():  # jsonb's binary form is a version byte (1) followed by the JSON text
        pieces += [_prefix(lengths + 1, valid), np.ones((len(values), 1), dtype=np.uint8)]
    else:
        pieces += [
            _prefix(lengths + 1, valid),
            _binary_from(b"\x01" * int(valid.sum()), valid.astype(np.int32)),
        ]
    if lengths.any():
        pieces.append(data)
    return pieces


def _timestamp_field(values: pa.Array) -> Piece:
    if values.type.unit != "us":
        values = pc.cast(values, pa.timestamp("us", tz=values.type.tz))
    micros = pc.fill_null(values.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    return _fixed(values, (micros - _PG_EPOCH_US).astype(">i8"))


def _integer_field(values: pa.Array, dtype: str) -> Piece:
    numbers = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
    return _fixed(values, numbers.astype(dtype))


def _bool_field(values: pa.Array) -> Piece:
    flags = pc.fill_null(values, False).to_numpy(zero_copy_only=False)
    return _fixed(values, flags.astype(np.uint8))


def _joinable(pieces: list[Piece], n: int) -> list[pa.Array]:
    """The pieces as arguments of the element-wise join: neighbouring blocks become one fixed-width array."""
    args: list[pa.Array] = []
    blocks: list[np.ndarray] = []

    def flush() -> None:
        if blocks:
            block = np.ascontiguousarray(np.hstack(blocks) if len(blocks) > 1 else blocks[0])
            width = block.shape[1]
            offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
            buffers = [None, pa.py_buffer(offsets), pa.py_buffer(block)]
            args.append(pa.Array.from_buffers(pa.binary(), n, buffers))
            blocks.clear()

    for piece in pieces:
        if isinstance(piece, np.ndarray):
            blocks.append(piece)
        else:
            flush()
            args.append(piece)
    flush()
    return args


# -- numeric ------------------------------------------------------------------------------------------------
def numeric_payload(unscaled: int, scale: int) -> bytes:
    """PostgreSQL's binary numeric for ``unscaled * 10**-scale``, display scale as short as exact allows.

    The general (Python integer) form; :func:`_numeric_field` computes the same bytes vectorised for values
    that fit in 64 bits and calls this for the rare larger ones.
    """
    negative = unscaled < 0
    magnitude = -unscaled if negative else unscaled
    pad = (-scale) % 4  # align the fraction to whole base-10000 groups
    magnitude *= 10**pad
    fraction_groups = (scale + pad) // 4
    integer, fraction = divmod(magnitude, 10 ** (4 * fraction_groups))
    groups: list[int] = []
    while integer:
        integer, group = divmod(integer, 10_000)
        groups.insert(0, group)
    weight = len(groups) - 1
    groups += [(fraction // 10 ** (4 * (fraction_groups - 1 - i))) % 10_000 for i in range(fraction_groups)]
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    raw_fraction = (-unscaled if negative else unscaled) % 10**scale
    dscale = 0
    if raw_fraction:
        trailing = len(str(raw_fraction)) - len(str(raw_fraction).rstrip("0"))
        dscale = scale - trailing
    if not groups:
        return struct.pack("!hhHh", 0, 0, 0, dscale)
    sign = _NUMERIC_NEG if negative else 0
    return struct.pack(f"!hhHh{len(groups)}h", len(groups), weight, sign, dscale, *groups)


def _decimal_unscaled(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The unscaled 128-bit integers as (low uint64, high int64) numpy arrays."""
    buffer = values.buffers()[1]
    words = np.frombuffer(buffer, dtype=np.uint64, count=2 * (values.offset + len(values)))
    words = words[2 * values.offset :]
    return words[0::2], words[1::2].view(np.int64)


def _numeric_field(values: pa.Array) -> pa.Array:
    t = values.type
    if not (pa.types.is_decimal128(t) and t.scale == 12):
        # Other decimal layouts never occur in the normalized schema; keep them exact through Python.
        payloads = [
            None if v is None else numeric_payload(*_unscaled(v, t.scale)) for v in values.to_pylist()
        ]
        return _variable(payloads)
    n = len(values)
    valid = _valid_mask(values)
    low, high = _decimal_unscaled(values)
    signed = low.view(np.int64)
    fits = (high == (signed >> 63)) & (signed != np.iinfo(np.int64).min)
    small = np.where(fits & valid, signed, 0)
    negative = small < 0
    magnitude = np.abs(small)
    integer, fraction = np.divmod(magnitude, 10**12)
    groups = np.stack(
        [
            integer // 10**8,  # |value| < 9.3e6: at most three integer groups
            (integer // 10**4) % 10**4,
            integer % 10**4,
            fraction // 10**8,
            (fraction // 10**4) % 10**4,
            fraction % 10**4,
        ],
        axis=1,
    )
    weights = np.array([2, 1, 0, -1, -2, -3])
    nonzero = groups != 0
    any_digit = nonzero.any(axis=1)
    first = np.argmax(nonzero, axis=1)
    last = groups.shape[1] - 1 - np.argmax(nonzero[:, ::-1], axis=1)
    ndigits = np.where(any_digit, last - first + 1, 0)
    weight = np.where(any_digit, weights[first], 0)
    trailing = np.zeros(n, dtype=np.int64)
    for k in range(1, 13):
        trailing += (fraction % 10**k == 0) & (fraction != 0)
    dscale = np.where(fraction != 0, 12 - trailing, 0)
    sign = np.where(negative & any_digit, _NUMERIC_NEG, 0)
    length = 8 + 2 * ndigits
    table = np.empty((n, 2 + 4 + 6), dtype=">i2")
    table[:, 0] = 0  # the int32 length prefix as two big-endian halves (length < 65536)
    table[:, 1] = length
    table[:, 2] = ndigits
    table[:, 3] = weight
    table[:, 4] = sign.astype(np.uint16).view(np.int16)
    table[:, 5] = dscale
    table[:, 6:] = groups
    columns = np.arange(6)
    keep = np.ones(table.shape, dtype=bool)
    keep[:, 6:] = (columns >= first[:, None]) & (columns <= last[:, None]) & any_digit[:, None]
    sizes = 4 + 2 * ndigits + 8
    if not valid.all():
        table[~valid, :2] = -1  # NULL: the length -1 alone
        keep[~valid, 2:] = False
        sizes = np.where(valid, sizes, 4)
    array = _binary_from(table[keep].tobytes(), sizes.astype(np.int32))
    big = valid & ~fits
    if not big.any():
        return array
    # values beyond 64 bits (|value| >= 9.2 million at scale 12): exact through Python integers, rare
    pieces: list[bytes | None] = array.to_pylist()
    decimals = values.to_pylist()
    for i in np.flatnonzero(big):
        payload = numeric_payload(*_unscaled(decimals[i], 12))
        pieces[i] = struct.pack("!i", len(payload)) + payload
    sizes = np.array([len(p or b"") for p in pieces], np.int32)
    return _binary_from(b"".join(p or b"" for p in pieces), sizes)


def _unscaled(value: Decimal, scale: int) -> tuple[int, int]:
    return int(value.scaleb(scale)), scale


def _variable(payloads: list[bytes | None]) -> pa.Array:
    """Length prefix + payload from a list of payloads (None: NULL)."""
    parts = []
    lengths = []
    for payload in payloads:
        if payload is None:
            parts.append(_NULL)
            lengths.append(4)
        else:
            parts.append(struct.pack("!i", len(payload)) + payload)
            lengths.append(4 + len(payload))
    return _binary_from(b"".join(parts), np.array(lengths, dtype=np.int32))


# -- rows ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Encoded:
    """One batch as COPY BINARY rows, and each row's fingerprint when the encoder computes them."""

    rows: pa.Buffer
    hashes: pa.Array | None  # binary, HASH_BYTES per row


def _digests(data: memoryview, starts: list[int], ends: list[int]) -> bytes:
    """BLAKE2b (HASH_BYTES) of each ``data[start:end]``, concatenated."""
    blake2b = hashlib.blake2b
    return b"".join(
        [
            blake2b(data[start:end], digest_size=HASH_BYTES).digest()
            for start, end in zip(starts, ends, strict=True)
        ]
    )


def _element_bounds(values: pa.Array) -> np.ndarray:
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int32, count=values.offset + len(values) + 1)
    return offsets[values.offset :]


def row_hashes(fields: pa.Array) -> pa.Array:
    """BLAKE2b (HASH_BYTES) of every element of a binary array: the fingerprint of each encoded row."""
    bounds = _element_bounds(fields)
    data = memoryview(fields.buffers()[2] or b"")
    digests = _digests(data, bounds[:-1].tolist(), bounds[1:].tolist())
    return _binary_from(digests, np.full(len(fields), HASH_BYTES, dtype=np.int32))


class BinaryRowEncoder:
    """Encodes the named columns of record batches as COPY BINARY rows.

    ``jsonb_columns`` are sent as jsonb (version byte + text); other strings as text, binary as bytea.
    ``constants`` are fields (name -> (value, kind)) that start every row, e.g. the load's ``_source`` and
    ``_load_id``; kinds are ``"text"`` and ``"int8"``. With ``row_hash`` (the name of a bytea column), every
    row also carries its fingerprint there, after the columns: BLAKE2b-128 of the row's encoded columns
    (length-prefixed binary values, in column order). Equal fingerprints mean equal encodings, so a reload
    can tell unchanged rows by the fingerprint stored with them (warehouse/load.py). The fingerprint is
    written into its placeholder in the joined buffer in place: no second copy of the rows.
    """

    def __init__(
        self,
        columns: Iterable[str],
        *,
        jsonb_columns: Iterable[str] = (),
        constants: Mapping[str, tuple[object, str]] | None = None,
        row_hash: str | None = None,
    ) -> None:
        self.columns = list(columns)
        self.jsonb = set(jsonb_columns)
        constants = dict(constants or {})
        self.row_hash = row_hash
        self.leading = list(constants)
        head = struct.pack("!h", len(self.columns) + len(self.leading) + (1 if row_hash else 0))
        for value, kind in constants.values():
            if kind == "text":
                raw = str(value).encode()
            elif kind == "int8":
                raw = struct.pack("!q", int(value))  # type: ignore[call-overload]
            else:
                raise ValueError(f"unknown constant kind {kind!r}")
            head += struct.pack("!i", len(raw)) + raw
        self._head_bytes_value = head
        self._head_bytes = len(head)
        self._hash_field_value = struct.pack("!i", HASH_BYTES) + bytes(HASH_BYTES)

    @property
    def field_names(self) -> list[str]:
        """Column list of the COPY statement, in the order the rows carry them."""
        return [*self.leading, *self.columns, *([self.row_hash] if self.row_hash else [])]

    def _fields(self, name: str, values: pa.Array) -> list[Piece]:
        t = values.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return _string_fields(values, jsonb=name in self.jsonb)
        if pa.types.is_binary(t) or pa.types.is_large_binary(t):
            return _string_fields(values, jsonb=False)
        if pa.types.is_timestamp(t):
            return [_timestamp_field(values)]
        if pa.types.is_decimal(t):
            return [_numeric_field(values)]
        if pa.types.is_boolean(t):
            return [_bool_field(values)]
        if pa.types.is_int64(t):
            return [_integer_field(values, ">i8")]
        if pa.types.is_int32(t):
            return [_integer_field(values, ">i4")]
        if pa.types.is_int16(t):
            return [_integer_field(values, ">i2")]
        if pa.types.is_null(t):
            return [np.tile(np.frombuffer(_NULL, dtype=np.uint8), (len(values), 1))]
        raise TypeError(f"column {name!r}: no binary COPY encoding for Arrow type {t}")

    def _pieces(self, batch: pa.RecordBatch) -> list[Piece]:
        pieces: list[Piece] = []
        for name in self.columns:
            values = batch.column(name)
            if isinstance(values, pa.ChunkedArray):
                values = values.combine_chunks()
            pieces.extend(self._fields(name, values))
        return pieces

    def fingerprints(self, batch: pa.RecordBatch) -> pa.Array:
        """Only the rows' fingerprints (what :meth:`encode` stores in the ``row_hash`` column)."""
        if batch.num_rows == 0:
            return pa.array([], pa.binary())
        args = _joinable(self._pieces(batch), batch.num_rows)
        return row_hashes(pc.binary_join_element_wise(*args, b""))

    def encode(self, batch: pa.RecordBatch) -> Encoded:
        """The rows of ``batch`` (without the COPY header or trailer) as one buffer, with fingerprints."""
        n = batch.num_rows
        if n == 0:
            return Encoded(pa.py_buffer(b""), pa.array([], pa.binary()) if self.row_hash else None)
        head = np.broadcast_to(np.frombuffer(self._head_bytes_value, dtype=np.uint8), (n, self._head_bytes))
        pieces = [head, *self._pieces(batch)]
        hashes = None
        if self.row_hash:
            pieces.append(np.broadcast_to(np.frombuffer(self._hash_field_value, dtype=np.uint8), (n, 20)))
            rows = pc.binary_join_element_wise(*_joinable(pieces, n), b"")
            bounds = _element_bounds(rows)
            starts, ends = bounds[:-1] + self._head_bytes, bounds[1:] - (4 + HASH_BYTES)
            buffer = rows.buffers()[2]
            digests = _digests(memoryview(buffer), starts.tolist(), ends.tolist())
            hashes = _binary_from(digests, np.full(len(rows), HASH_BYTES, dtype=np.int32))
            # the placeholder's 16 zero bytes end every row: overwrite them with the row's digest
            target = np.frombuffer(buffer, dtype=np.uint8)
            slots = (bounds[1:] - HASH_BYTES)[:, None] + np.arange(HASH_BYTES)
            target[slots] = np.frombuffer(digests, dtype=np.uint8).reshape(-1, HASH_BYTES)
        else:
            rows = pc.binary_join_element_wise(*_joinable(pieces, n), b"")
        offsets = rows.buffers()[1]
        bounds = np.frombuffer(offsets, dtype=np.int32, count=rows.offset + len(rows) + 1)
        start, end = int(bounds[rows.offset]), int(bounds[rows.offset + len(rows)])
        return Encoded(rows.buffers()[2].slice(start, end - start), hashes)

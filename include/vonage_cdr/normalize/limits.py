"""How much of a report file the normalizer accepts: record length and decompressed size.

Why: a report ZIP comes from the network. A small ZIP can hold gigabytes of data without a single newline
(a decompression bomb, or a damaged file); read naively, one "line" of it fills the worker's memory. Three
caps keep a worker safe whatever the file holds, and each refusal names the file, the member and the cap:

* ``max_record_bytes`` (``CDR_MAX_RECORD_BYTES``, default 1 MiB): the longest header or CSV record accepted.
  It is what bounds memory: the reader works in blocks of this size (at least 1 MiB), holding a few blocks at
  a time, so it may not exceed 1/64 of the worker's physical memory. A real CDR is well under 10 KiB.
* ``max_decompressed_bytes`` (``CDR_MAX_DECOMPRESSED_BYTES``, default 8 GiB): the declared decompressed size
  of all members. The largest report Vonage makes (about 7 million records, a 1 GB archive) holds about
  2-3 GiB of CSV; memory does not grow with it (everything streams), disk and time do.
* ``max_compression_ratio`` (``CDR_MAX_COMPRESSION_RATIO``, default 100): a member over 64 MiB that
  decompresses more than this many times its compressed size is refused before a byte is inflated. CSV
  with a random record id per row compresses about 5:1; a bomb about 1000:1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "ReadLimits", "physical_memory_bytes"]

MIB = 1024 * 1024


def physical_memory_bytes() -> int | None:
    """The machine's physical memory, or None where the platform does not tell."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


@dataclass(frozen=True)
class ReadLimits:
    max_record_bytes: int = MIB
    max_decompressed_bytes: int = 8 * 1024 * MIB
    max_compression_ratio: float = 100.0

    def __post_init__(self) -> None:
        if self.max_record_bytes < 1024:
            raise ValueError("max_record_bytes must be at least 1024")
        memory = physical_memory_bytes()
        if memory is not None and self.max_record_bytes > memory // 64:
            raise ValueError(
                f"max_record_bytes {self.max_record_bytes} exceeds 1/64 of this worker's memory "
                f"({memory} bytes): the reader holds several records' worth of blocks at once"
            )
        if self.max_decompressed_bytes < 1 or self.max_compression_ratio < 1:
            raise ValueError("max_decompressed_bytes and max_compression_ratio must be positive")


DEFAULT_LIMITS = ReadLimits()

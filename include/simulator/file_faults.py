"""File faults: the copy of a report ZIP served for one download is short, lacks or renames a column, or
carries a row that is not UTF-8 or has a field too few, while the report still promises `items_count` records.

Why: a loader that trusts the archive's checksums alone would load such a file as complete. These are the
files users meet in practice (a cut export, a header-only CSV, an empty archive, a schema change, a stray
byte); the pipeline must refuse them or quarantine the bad row, never load them as a complete day.

Why per download: the report's stored file stays intact and each download attempt rolls its own faults
from (seed, the report's request, the attempt number). A retry that downloads the file again may get a
good copy, as behind a flaky storage layer, so a soak with faults can converge. The decision is a pure
function of those inputs: the same sequence of downloads meets the same faults.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from include.simulator.values import key64

#: ways a served file holds fewer rows than `items_count`
SHORT_FILE_KINDS = ("cut", "header_only", "empty_zip", "no_csv")
#: bytes that never occur in UTF-8 (0xFF, 0xFE) around a lone continuation byte
UNDECODABLE = b"\xff\xfe\x80"


def _unit(key: int, name: str) -> float:
    return (key64(key, name) >> 11) / float(1 << 53)


@dataclass(frozen=True)
class FilePlan:
    """What one download's copy gets; `key` picks the row, column and cut point deterministically."""

    key: int
    short: str | None = None
    missing_column: bool = False
    renamed_column: bool = False
    undecodable_row: bool = False
    malformed_row: bool = False
    columns: tuple[str, ...] = ()  # columns the column faults may pick (empty: any)

    @property
    def any(self) -> bool:
        faults = (
            self.short,
            self.missing_column,
            self.renamed_column,
            self.undecodable_row,
            self.malformed_row,
        )
        return any(faults)


def plan_download(
    *,
    seed: int,
    report_key: str,
    attempt: int,
    items: int,
    short_rate: float,
    short_kinds: tuple[str, ...],
    missing_rate: float,
    renamed_rate: float,
    undecodable_rate: float,
    malformed_rate: float = 0.0,
    columns: tuple[str, ...] = (),
) -> FilePlan:
    """Roll the file faults of download number `attempt` of the report identified by `report_key`.

    A report with no records cannot be short (an empty file is what it promises), and a row fault needs a
    row, so those are not rolled for `items == 0`.
    """
    key = key64("file-faults", seed, report_key, attempt)
    short = None
    kinds = tuple(k for k in short_kinds if k in SHORT_FILE_KINDS)
    if items > 0 and kinds and _unit(key, "short") < short_rate:
        short = kinds[key64(key, "kind") % len(kinds)]
    missing = _unit(key, "missing") < missing_rate
    renamed = not missing and _unit(key, "renamed") < renamed_rate
    rows_served = items > 0 and short not in ("header_only", "empty_zip", "no_csv")
    undecodable = rows_served and _unit(key, "undecodable") < undecodable_rate
    malformed = rows_served and _unit(key, "malformed") < malformed_rate
    return FilePlan(key, short, missing, renamed, undecodable, malformed, tuple(columns))


def renamed(name: str) -> str:
    """The name a renamed column gets: camelCase (`total_price` -> `totalPrice`), else `<name>_v2`."""
    head, *rest = name.split("_")
    camel = head + "".join(part[:1].upper() + part[1:] for part in rest)
    return camel if camel != name else f"{name}_v2"


def _csv_line(values: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerow(values)
    return buf.getvalue().encode("utf-8")


def _spoil(line: bytes) -> bytes:
    """Insert bytes that are not UTF-8 at the start of the row's second field (first field if only one)."""
    cut = line.find(b'","')
    pos = cut + 3 if cut >= 0 else 1
    return line[:pos] + UNDECODABLE + line[pos:]


def _member_rows(zf: zipfile.ZipFile, name: str) -> Iterator[list[str]]:
    with zf.open(name) as raw:
        yield from csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))


def write_faulty_copy(src: Path, dest: Path, plan: FilePlan, items: int) -> list[str]:
    """Write the copy of `src` that `plan` describes to `dest`; return the fault kinds actually applied.

    Streams row by row (memory does not grow with the file). Every field is quoted on output, as Vonage
    writes them, so untouched rows are byte-identical to the stored file's.
    """
    applied: list[str] = []
    with (
        zipfile.ZipFile(src) as zin,
        zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout,
    ):
        if plan.short == "empty_zip":
            return ["short_file:empty_zip"]
        if plan.short == "no_csv":
            zout.writestr("README.txt", "The export produced no records file.\n")
            return ["short_file:no_csv"]
        keep = items
        if plan.short == "header_only":
            keep = 0
        elif plan.short == "cut":
            keep = min(items - 1, int(items * (0.25 + 0.65 * _unit(plan.key, "cut"))))
        if plan.short:
            applied.append(f"short_file:{plan.short}")
        bad_row = key64(plan.key, "row") % keep if plan.undecodable_row and keep > 0 else None
        short_row = key64(plan.key, "short-row") % keep if plan.malformed_row and keep > 0 else None
        written = 0
        column_done = False
        for info in zin.infolist():
            rows = _member_rows(zin, info.filename)
            header = next(rows, None)
            with zout.open(info.filename, "w", force_zip64=True) as out:
                if header is None:
                    continue
                drop: int | None = None
                if (plan.missing_column or plan.renamed_column) and header:
                    pool = [i for i, c in enumerate(header) if not plan.columns or c in plan.columns]
                    if pool:
                        index = pool[key64(plan.key, "column") % len(pool)]
                        if plan.missing_column:
                            drop = index
                        else:
                            header = [*header[:index], renamed(header[index]), *header[index + 1 :]]
                        column_done = True
                out.write(_csv_line([c for i, c in enumerate(header) if i != drop]))
                for row in rows:
                    if written >= keep:
                        break
                    values = [v for i, v in enumerate(row) if i != drop]
                    line = _csv_line(values[:-1] if written == short_row else values)
                    if written == bad_row:
                        line = _spoil(line)
                    out.write(line)
                    written += 1
    if column_done:
        applied.append("missing_column" if plan.missing_column else "renamed_column")
    if bad_row is not None and written > bad_row:
        applied.append("undecodable_row")
    if short_row is not None and written > short_row:
        applied.append("malformed_row")
    return applied

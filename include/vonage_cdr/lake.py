"""The Parquet lake: typed CDR files partitioned by product and day, replaced atomically.

Why a lake beside the warehouse: the normalized Parquet of every report is kept so that a table can be
rebuilt, audited or loaded elsewhere without asking Vonage again (reports are billed per CDR and their
files vanish after 72 hours). Layout::

    <root>/product=SMS/date=2026-11-20/<account_id>-<direction|all>.parquet

one file per (account, direction) partition of a day, hive-style directory names so that pyarrow.dataset,
DuckDB or Spark read it as a partitioned dataset. Quarantined rows sit beside their file as
``_quarantine-<name>.jsonl``; temporary files start with ``.``. Dataset readers skip names starting with
``_`` or ``.``, so neither is mistaken for data.

Every write goes to a temporary file in the target's own directory and is moved over the target with
``os.replace`` (atomic on POSIX within one filesystem): a reader sees the old file or the new one, a re-run
replaces the day's file instead of adding a second one beside it, and a crash mid-write leaves the previous
file intact. A process killed mid-write (``kill -9``) cannot delete its temporary file; the next attempt at
the same partition removes the ones older than itself (:meth:`Lake.remove_stale_temp_files`).

The daily load normalizes into its work directory and publishes into the lake only after the warehouse
committed (:meth:`Lake.publish`), so a file that failed its checks (a short file) never reaches the lake.
"""

from __future__ import annotations

import contextlib
import errno
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

from include.vonage_cdr.settings import Settings

__all__ = ["Lake", "atomic_path", "quarantine_path_for", "remove_stale_files"]

T = TypeVar("T")

# Path components come from configuration and API responses; only harmless characters may reach a path.
_SAFE_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_TMP_SUFFIX = ".tmp"


def _safe(kind: str, value: str) -> str:
    if not _SAFE_COMPONENT.match(value) or ".." in value:
        raise ValueError(f"{kind} {value!r} cannot be used in a lake path (letters, digits, '_', '-', '.')")
    return value


def quarantine_path_for(data_path: Path) -> Path:
    """Where the quarantined rows of ``data_path`` live: same directory, ignored by dataset readers."""
    return data_path.with_name(f"_quarantine-{data_path.stem}.jsonl")


def remove_stale_files(
    directory: Path, *, before: datetime, match: Callable[[str], bool] = lambda name: True
) -> list[Path]:
    """Delete the files in ``directory`` (recursively) named as ``match`` accepts and last modified before
    ``before``: what a killed attempt left. A file written since ``before`` belongs to a live writer.
    Subdirectories last modified before ``before`` go too once they are empty."""
    if not directory.is_dir():
        return []
    cutoff = before.timestamp()
    removed = []
    entries = sorted(directory.rglob("*"), reverse=True)  # deepest first
    stale_dirs = [p for p in entries if p.is_dir() and p.stat().st_mtime < cutoff]
    for path in entries:
        with contextlib.suppress(FileNotFoundError):
            if path.is_file() and match(path.name) and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
    for path in stale_dirs:
        with contextlib.suppress(OSError):  # not empty: something live or unmatched is inside
            path.rmdir()
            removed.append(path)
    return removed


def _move_or_copy(source: Path, destination: Path) -> None:
    try:
        source.replace(destination)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        shutil.copyfile(source, destination)  # another filesystem: copy into the temporary name


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; on success move it over ``target``, on error delete it.

    The temporary file lives in the same directory so ``os.replace`` never crosses a filesystem (which
    would make it a non-atomic copy). Its name starts with ``.`` and ends with ``.tmp`` so readers and
    cleanup jobs can tell it apart from data.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}{_TMP_SUFFIX}")
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"the writer did not create {tmp}")
        tmp.replace(target)  # os.replace: atomic within one filesystem
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class Lake:
    """A lake root directory (local by default; any POSIX-mounted filesystem works)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls) -> Lake:
        """The configured lake: ``CDR_LAKE_ROOT``, by default the local ``<project>/.state/lake``."""
        return cls(Settings.from_env().lake_root)

    def __repr__(self) -> str:
        return f"Lake({str(self.root)!r})"

    def product_dir(self, product: str) -> Path:
        return self.root / f"product={_safe('product', product)}"

    def day_dir(self, product: str, day: date) -> Path:
        """``<root>/product=<PRODUCT>/date=<YYYY-MM-DD>``."""
        return self.product_dir(product) / f"date={day.isoformat()}"

    def partition_file(self, product: str, day: date, account_id: str, direction: str | None) -> Path:
        """The one Parquet file of an (account, direction) partition of a product's day."""
        name = f"{_safe('account_id', account_id)}-{_safe('direction', direction or 'all')}.parquet"
        return self.day_dir(product, day) / name

    def quarantine_file(self, product: str, day: date, account_id: str, direction: str | None) -> Path:
        return quarantine_path_for(self.partition_file(product, day, account_id, direction))

    def write_atomic(self, target: Path, write: Callable[[Path], T]) -> T:
        """Run ``write(tmp_path)``, then atomically move the result over ``target``; returns write's result.

        ``target`` must be inside this lake (a guard against a mis-built path writing elsewhere).
        """
        self._check_inside(target)
        with atomic_path(target) as tmp:
            return write(tmp)

    def _check_inside(self, target: Path) -> None:
        if not target.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"{target} is outside the lake root {self.root}")

    def publish(self, target: Path, parquet: Path, quarantine: Path | None) -> None:
        """Put a normalized file and its quarantine (or none: a stale one is removed) at ``target``.

        Each file is moved (or, from another filesystem, copied) to a temporary name beside its target and
        then swapped in atomically.
        """
        self._check_inside(target)
        with atomic_path(target) as tmp:
            _move_or_copy(parquet, tmp)
        quarantine_target = quarantine_path_for(target)
        if quarantine is None:
            with contextlib.suppress(FileNotFoundError):
                quarantine_target.unlink()
        else:
            with atomic_path(quarantine_target) as tmp:
                _move_or_copy(quarantine, tmp)

    def remove_stale_temp_files(self, target: Path, *, before: datetime) -> list[Path]:
        """Temporary files of ``target`` (and its quarantine) left by attempts killed before ``before``."""
        self._check_inside(target)
        prefixes = (f".{target.name}.", f".{quarantine_path_for(target).name}.")

        def is_temp(name: str) -> bool:
            return name.startswith(prefixes) and name.endswith(_TMP_SUFFIX)

        return remove_stale_files(target.parent, before=before, match=is_temp)

    def files(self, product: str, day: date) -> list[Path]:
        """The data files of a product's day, in name order (no quarantine or temporary files)."""
        folder = self.day_dir(product, day)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))

    def stale_temp_files(self) -> list[Path]:
        """Temporary files left by a killed process (a crash skips the cleanup in ``atomic_path``)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.rglob(f".*{_TMP_SUFFIX}") if p.is_file())

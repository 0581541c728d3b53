"""The Parquet lake: typed CDR files partitioned by product and day, replaced atomically.

Why a lake beside the warehouse: the normalized Parquet of every report is kept so that a table can be
rebuilt, audited or loaded elsewhere without asking Vonage again (reports are billed per CDR and their
files vanish after 72 hours). Layout::

    <root>/product=SMS/date=2026-11-20/<account_id>-<direction|all>.parquet

one file per (account, direction) partition of a day, hive-style directory names so that pyarrow.dataset,
DuckDB, Trino or Spark read it as a partitioned dataset. Quarantined rows sit beside their file as
``_quarantine-<name>.jsonl``; temporary files start with ``.``. Dataset readers skip names starting with
``_`` or ``.``, so neither is mistaken for data.

The root is a local directory (the default, ``<project>/.state/lake``) or an object store,
``s3://bucket/prefix`` (``CDR_LAKE_ROOT``; credentials from the Airflow connection ``CDR_LAKE_CONN_ID``).
Every write goes to a hidden temporary file beside its target and is published over the target in one step
(a rename locally, a server-side copy on S3; :mod:`include.vonage_cdr.storage` says why that is atomic on a
store without rename): a reader sees the old file or the new one, a re-run replaces the day's file instead
of adding a second one beside it, and a failed write leaves the previous file intact. A process killed
mid-write (``kill -9``) cannot delete its temporary file; the next attempt at the same partition removes
the ones older than itself (:meth:`Lake.remove_stale_temp_files`).

The daily load normalizes into its (local) work directory and publishes into the lake only after the
warehouse committed (:meth:`Lake.publish`), so a file that failed its checks (a short file) never reaches
the lake.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit

import pyarrow as pa
import pyarrow.fs as pafs

from include.vonage_cdr.settings import Settings
from include.vonage_cdr.storage import (
    AtomicOutput,
    LakePath,
    Location,
    S3Options,
    is_temp_name,
    lake_root_path,
    publish_file,
    remove_stale_temp_siblings,
)

__all__ = ["Lake", "LakePath", "quarantine_path_for", "remove_stale_files"]

T = TypeVar("T")
L = TypeVar("L", Path, LakePath)

# Path components come from configuration and API responses; only harmless characters may reach a path.
_SAFE_COMPONENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def _safe(kind: str, value: str) -> str:
    if not _SAFE_COMPONENT.match(value) or ".." in value:
        raise ValueError(f"{kind} {value!r} cannot be used in a lake path (letters, digits, '_', '-', '.')")
    return value


def quarantine_path_for(data_path: L) -> L:
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


class Lake:
    """A lake root: a local directory or ``s3://bucket/prefix`` (any S3-compatible store)."""

    def __init__(self, root: str | Path | LakePath, *, s3: S3Options | None = None) -> None:
        self.root: LakePath = lake_root_path(root, s3)

    @classmethod
    def from_settings(cls, s3: S3Options | None = None) -> Lake:
        """The configured lake: ``CDR_LAKE_ROOT``, by default the local ``<project>/.state/lake``."""
        return cls(Settings.from_env().lake_root, s3=s3)

    def __repr__(self) -> str:
        return f"Lake({self.root.url!r})"

    @property
    def url(self) -> str:
        return self.root.url

    def product_dir(self, product: str) -> LakePath:
        return self.root / f"product={_safe('product', product)}"

    def day_dir(self, product: str, day: date) -> LakePath:
        """``<root>/product=<PRODUCT>/date=<YYYY-MM-DD>``."""
        return self.product_dir(product) / f"date={day.isoformat()}"

    def partition_file(self, product: str, day: date, account_id: str, direction: str | None) -> LakePath:
        """The one Parquet file of an (account, direction) partition of a product's day."""
        name = f"{_safe('account_id', account_id)}-{_safe('direction', direction or 'all')}.parquet"
        return self.day_dir(product, day) / name

    def quarantine_file(self, product: str, day: date, account_id: str, direction: str | None) -> LakePath:
        return quarantine_path_for(self.partition_file(product, day, account_id, direction))

    def locate(self, url: str) -> LakePath:
        """The lake file a URL from XCom or the logs names (``file:///...`` or ``s3://...``), on this lake."""
        parts = urlsplit(url)
        path = unquote(parts.path) if parts.scheme == "file" else f"{parts.netloc}{unquote(parts.path)}"
        located = LakePath(self.root.fs, path)
        self._check_inside(located)
        return located

    def write_atomic(self, target: LakePath, write: Callable[[pa.NativeFile], T]) -> T:
        """Run ``write(stream)`` on a temporary file, then publish it over ``target``; returns write's result.

        ``target`` must be inside this lake (a guard against a mis-built path writing elsewhere).
        """
        self._check_inside(target)
        with AtomicOutput(target) as stream:
            return write(stream)

    def publish(self, target: LakePath, parquet: Path, quarantine: Path | None) -> None:
        """Put a normalized file and its quarantine (or none: a stale one is removed) at ``target``.

        Each local file is moved (copied from another filesystem, uploaded to an object store) to a
        temporary name beside its target and then swapped in atomically.
        """
        self._check_inside(target)
        publish_file(parquet, target)
        quarantine_target = quarantine_path_for(target)
        if quarantine is None:
            quarantine_target.unlink(missing_ok=True)
        else:
            publish_file(quarantine, quarantine_target)

    def remove_stale_temp_files(self, target: LakePath, *, before: datetime) -> list[str]:
        """Temporary files of ``target`` (and its quarantine) left by attempts killed before ``before``."""
        self._check_inside(target)
        return remove_stale_temp_siblings(target, before=before, names=(quarantine_path_for(target).name,))

    def _check_inside(self, target: Location) -> None:
        path = target if isinstance(target, LakePath) else lake_root_path(target)
        if not path.is_relative_to(self.root):
            raise ValueError(f"{path.url} is outside the lake root {self.root.url}")

    def files(self, product: str, day: date) -> list[LakePath]:
        """The data files of a product's day, in name order (no quarantine or temporary files)."""
        folder = self.day_dir(product, day)
        return sorted(
            (
                LakePath(folder.fs, info.path)
                for info in folder.children()
                if info.type == pafs.FileType.File
                and info.base_name.endswith(".parquet")
                and not info.base_name.startswith((".", "_"))
            ),
            key=lambda p: p.path,
        )

    def stale_temp_files(self) -> list[LakePath]:
        """Temporary files left by a killed process (a failed write removes its own; see storage)."""
        return sorted(
            (LakePath(self.root.fs, i.path) for i in self.root.walk() if is_temp_name(i.base_name)),
            key=lambda p: p.path,
        )

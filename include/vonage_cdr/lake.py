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
of adding a second one beside it, and a failed write leaves the previous file intact and no temporary file
behind.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

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
)

__all__ = ["Lake", "LakePath", "quarantine_path_for"]

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

    def write_atomic(self, target: LakePath, write: Callable[[pa.NativeFile], T]) -> T:
        """Run ``write(stream)`` on a temporary file, then publish it over ``target``; returns write's result.

        ``target`` must be inside this lake (a guard against a mis-built path writing elsewhere).
        """
        self._check_inside(target)
        with AtomicOutput(target) as stream:
            return write(stream)

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

"""The lake's filesystem: a local directory or an S3 bucket, and the atomic, streaming I/O on either.

Why :mod:`pyarrow.fs` (and not Airflow's ``ObjectStoragePath``):

* **No new dependency.** pyarrow is already our Parquet engine and its wheels carry an S3 client (the AWS
  C++ SDK). ``ObjectStoragePath`` goes through fsspec and, for ``s3://``, the Amazon provider with s3fs,
  aiobotocore and boto3 (dozens of packages on every worker) to do the same.
* **Streaming both ways.** ``open_output_stream`` sends a multipart upload part by part (10 MiB each) as the
  Parquet writer produces bytes, so memory holds a few parts whatever the file's size; ``open_input_file`` is
  a random access file that turns each read into a ranged GET, so a Parquet reader fetches the footer and
  then one row group at a time (:func:`row_group_batches`). The loader COPYs from the object store with no
  local copy.
* **One code path.** ``LocalFileSystem`` and ``S3FileSystem`` implement one interface, so the local default
  and the object store run the same code, and the lake's tests run against both (an S3-compatible server
  started by the tests).
* **Credentials stay Airflow's.** The library never imports Airflow: the glue
  (``plugins/vonage_reports/lake_storage.py``) reads an ``aws`` connection into :class:`S3Options`.

Atomic writes, also where there is no rename. Every file (a partition's Parquet file, its quarantine file)
is written under a hidden temporary name beside its target, ``.<name>.<token>.tmp``, and published by
``FileSystem.move`` only once it is complete:

* locally ``move`` is ``rename(2)``: the target is replaced atomically;
* on S3 ``move`` is a server-side ``CopyObject`` to the final key followed by ``DeleteObject`` of the
  temporary key. A copy, like a PUT or a completed multipart upload, makes the new object visible whole or
  not at all (S3 is strongly read-after-write consistent), so a reader gets the old file or the new one.

Why not upload straight to the final key, whose multipart upload only becomes visible when completed?
Because pyarrow completes an upload whenever its stream is closed, also when the writer failed half-way (it
closes rather than aborts, even from its destructor): a failed load would publish half a Parquet file. With a
temporary key a failure can only ever complete a hidden temporary object, which is then deleted. Why not a
new key per write plus a pointer to the current one? Readers of the lake (DuckDB, Trino, Spark) list the
hive-style layout; they would all have to honour the pointer, and old versions would pile up.

What a crash can leave behind: killed mid-upload, an incomplete multipart upload (invisible to readers and
listings; the bucket's ``AbortIncompleteMultipartUpload`` lifecycle rule removes it, docs/deployment.md);
killed between the upload and the copy, a hidden temporary object, which the next attempt at the same
partition deletes (``Lake.remove_stale_temp_files``, called by the daily load). ``Lake.stale_temp_files``
lists them all. A single ``CopyObject`` copies at most 5 GB, so one partition file must stay below that.
"""

from __future__ import annotations

import contextlib
import errno
import io
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from include.vonage_cdr.lake_url import LakeRoot, file_url, parse_lake_root

__all__ = [
    "TMP_SUFFIX",
    "AtomicOutput",
    "LakePath",
    "Location",
    "S3Options",
    "as_lake_path",
    "filesystem_for",
    "open_input_file",
    "open_parquet",
    "open_text",
    "publish_file",
    "remove_stale_temp_siblings",
    "row_group_batches",
]

TMP_SUFFIX = ".tmp"
_COPY_CHUNK = 8 * 2**20
_LOCAL = pafs.LocalFileSystem()


@dataclass(frozen=True)
class LakePath:
    """A file or directory of the lake: a pyarrow filesystem and a path on it.

    ``path`` is an absolute directory path locally and ``bucket/key`` on S3; ``url`` is what travels in
    XCom and logs (``file:///...`` or ``s3://bucket/key``), never a credential.
    """

    fs: pafs.FileSystem = field(repr=False)
    path: str

    def __hash__(
        self,
    ) -> int:  # pyarrow filesystems are not hashable; two paths on equal filesystems are equal
        return hash((self.fs.type_name, self.path))

    def __str__(self) -> str:
        return self.url

    @property
    def is_local(self) -> bool:
        return self.fs.type_name == "local"

    @property
    def url(self) -> str:
        return file_url(self.path) if self.is_local else f"{self.fs.type_name}://{self.path}"

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        name = self.name
        return name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name

    @property
    def parent(self) -> LakePath:
        head = self.path.rstrip("/").rsplit("/", 1)[0]
        return LakePath(self.fs, head or "/")

    def __truediv__(self, part: str) -> LakePath:
        if not part or "/" in part or part in (".", ".."):
            raise ValueError(f"{part!r} is not a single path component")
        return LakePath(self.fs, f"{self.path.rstrip('/')}/{part}")

    def with_name(self, name: str) -> LakePath:
        return self.parent / name

    def is_relative_to(self, other: LakePath) -> bool:
        return self.fs.equals(other.fs) and (
            self.path == other.path or self.path.startswith(other.path.rstrip("/") + "/")
        )

    # -- reading -------------------------------------------------------------------------------------
    def info(self) -> pafs.FileInfo:
        return self.fs.get_file_info(self.path)

    def exists(self) -> bool:
        return self.info().type != pafs.FileType.NotFound

    def is_file(self) -> bool:
        return self.info().type == pafs.FileType.File

    def open_input_file(self) -> pa.NativeFile:
        """Random access (ranged GETs on S3): what a Parquet reader needs to read one row group at a time."""
        return self.fs.open_input_file(self.path)

    def open_input_stream(self) -> pa.NativeFile:
        return self.fs.open_input_stream(self.path)

    def read_bytes(self) -> bytes:
        """The whole file (small files and tests only: data files are read with :func:`open_parquet`)."""
        with self.open_input_stream() as stream:
            return stream.read()

    def children(self) -> list[pafs.FileInfo]:
        """What lies directly in this directory (nothing when it does not exist)."""
        selector = pafs.FileSelector(self.path, recursive=False, allow_not_found=True)
        return self.fs.get_file_info(selector)

    def walk(self) -> list[pafs.FileInfo]:
        """Every file below this directory (directory entries left out)."""
        selector = pafs.FileSelector(self.path, recursive=True, allow_not_found=True)
        return [i for i in self.fs.get_file_info(selector) if i.type == pafs.FileType.File]

    # -- changing ------------------------------------------------------------------------------------
    def unlink(self, missing_ok: bool = True) -> None:
        try:
            self.fs.delete_file(self.path)
        except FileNotFoundError:
            if not missing_ok:
                raise


#: Where a normalizer writes or a loader reads: a plain local path (as before the lake had a filesystem) or a
#: path on the lake's filesystem.
Location = Path | LakePath


def as_lake_path(location: Location | str) -> LakePath:
    """A :class:`LakePath` for a local ``Path``/path string, or the given one unchanged."""
    if isinstance(location, LakePath):
        return location
    if isinstance(location, str) and "://" in location:
        raise ValueError(f"{location} needs its lake's filesystem (credentials): build it with Lake")
    return LakePath(_LOCAL, str(Path(location).absolute()))


@dataclass(frozen=True)
class S3Options:
    """How to reach an S3 (or S3-compatible) store; built from an Airflow ``aws`` connection by the glue.

    With no keys and no role, pyarrow's default AWS chain applies (environment, ~/.aws, instance profile).
    """

    access_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    endpoint_url: str | None = None  # S3-compatible stores: http(s)://host:port
    role_arn: str | None = None
    ca_file: str | None = None
    connect_timeout: float = 10.0
    request_timeout: float = 60.0

    def filesystem(self, bucket: str) -> pafs.S3FileSystem:
        if (self.access_key is None) != (self.secret_key is None):
            raise ValueError("the lake connection needs both an access key (login) and a secret (password)")
        kwargs: dict[str, object] = {
            "connect_timeout": self.connect_timeout,
            "request_timeout": self.request_timeout,
        }
        if self.access_key is not None:
            kwargs.update(access_key=self.access_key, secret_key=self.secret_key)
            if self.session_token:
                kwargs["session_token"] = self.session_token
        if self.role_arn:
            kwargs["role_arn"] = self.role_arn
        if self.endpoint_url:
            parts = urlsplit(
                self.endpoint_url if "://" in self.endpoint_url else f"https://{self.endpoint_url}"
            )
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("endpoint_url must look like https://host[:port]")
            kwargs.update(scheme=parts.scheme, endpoint_override=parts.netloc)
            kwargs["region"] = self.region or "us-east-1"  # S3-compatible stores mostly ignore it
        else:
            kwargs["region"] = self.region or pafs.resolve_s3_region(bucket)
        if self.ca_file:
            kwargs["tls_ca_file_path"] = self.ca_file
        return pafs.S3FileSystem(**kwargs)


def filesystem_for(root: LakeRoot, s3: S3Options | None = None) -> pafs.FileSystem:
    """The filesystem a lake root lives on (S3 with ``s3``'s credentials, or the default AWS chain)."""
    if root.scheme == "file":
        return _LOCAL
    return (s3 or S3Options()).filesystem(root.path.split("/", 1)[0])


def lake_root_path(root: str | Path | LakePath, s3: S3Options | None = None) -> LakePath:
    """Parse a lake root (path, file:// or s3:// URL) into a :class:`LakePath` on its filesystem."""
    if isinstance(root, LakePath):
        return root
    parsed = parse_lake_root(root)
    return LakePath(filesystem_for(parsed, s3), parsed.path)


# -- writing: hidden temporary file, published whole --------------------------------------------------------
class AtomicOutput:
    """A file written under a hidden temporary name and moved over ``target`` only by :meth:`commit`.

    ``open()`` creates the temporary file lazily (a quarantine file exists only when a row is quarantined);
    :meth:`abort` (or leaving the ``with`` block with an error) deletes it and leaves ``target`` untouched.
    """

    def __init__(self, target: Location) -> None:
        self.target = as_lake_path(target)
        self.temp = self.target.with_name(f".{self.target.name}.{uuid.uuid4().hex[:12]}{TMP_SUFFIX}")
        self._stream: pa.NativeFile | None = None
        self._committed = False

    def open(self) -> pa.NativeFile:
        if self._committed:
            raise RuntimeError(f"{self.target} was already committed")
        if self._stream is None:
            if self.target.is_local:  # object stores have no directories to create
                self.target.fs.create_dir(self.target.parent.path, recursive=True)
            self._stream = self.target.fs.open_output_stream(self.temp.path)
        return self._stream

    @property
    def opened(self) -> bool:
        return self._stream is not None

    def commit(self) -> LakePath:
        """Finish the temporary file and publish it over the target in one step; returns the target."""
        stream = self.open()
        if not stream.closed:  # a text wrapper over it may have closed it already
            stream.close()  # S3: completes the multipart upload of the *temporary* key
        self.target.fs.move(self.temp.path, self.target.path)  # rename, or CopyObject + DeleteObject
        self._committed = True
        return self.target

    def abort(self) -> None:
        if self._committed:
            return
        if self._stream is not None and not self._stream.closed:
            with contextlib.suppress(Exception):
                self._stream.close()
        with contextlib.suppress(OSError):
            self.temp.unlink()

    def __enter__(self) -> pa.NativeFile:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def _mtime(info: pafs.FileInfo) -> datetime | None:
    mtime = info.mtime
    if mtime is None:
        return None
    return mtime if mtime.tzinfo is not None else mtime.replace(tzinfo=UTC)


def is_temp_name(name: str) -> bool:
    return name.startswith(".") and name.endswith(TMP_SUFFIX)


def remove_stale_temp_siblings(
    target: LakePath, *, before: datetime, names: tuple[str, ...] = ()
) -> list[str]:
    """Delete the temporary files of ``target`` (and of the sibling files ``names``) last written before
    ``before``: what an attempt killed earlier left. Newer ones belong to a live writer and stay.
    Returns the URLs removed."""
    prefixes = tuple(f".{name}." for name in (target.name, *names))
    removed: list[str] = []
    for info in target.parent.children():
        if info.type != pafs.FileType.File or not info.base_name.startswith(prefixes):
            continue
        if not info.base_name.endswith(TMP_SUFFIX):
            continue
        mtime = _mtime(info)
        if mtime is not None and mtime < before:
            with contextlib.suppress(OSError):
                target.fs.delete_file(info.path)
                removed.append(LakePath(target.fs, info.path).url)
    return removed


def publish_file(source: Path, target: LakePath) -> None:
    """Put the local file ``source`` at ``target`` in one step; ``source`` is consumed (moved, or deleted
    once copied).

    Locally the file is renamed to a temporary name beside the target (copied there when it sits on another
    filesystem) and renamed over the target; on S3 it is streamed into a temporary object (multipart, in
    parts) that a server-side copy then publishes. Memory stays at a few parts whatever the file's size.
    """
    out = AtomicOutput(target)
    if target.is_local:
        Path(target.parent.path).mkdir(parents=True, exist_ok=True)
        try:
            try:
                Path(source).replace(out.temp.path)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                shutil.copyfile(source, out.temp.path)  # another filesystem: copy into the temporary name
            target.fs.move(out.temp.path, target.path)
        finally:
            with contextlib.suppress(OSError):
                out.temp.unlink()
        return
    try:
        stream = out.open()
        with Path(source).open("rb") as src:
            while chunk := src.read(_COPY_CHUNK):
                stream.write(chunk)
        out.commit()
    finally:
        out.abort()  # no-op once committed
    Path(source).unlink(missing_ok=True)  # published: consumed, as a local move would


# -- reading: streams, row group by row group -----------------------------------------------------------
def open_input_file(location: Location) -> pa.NativeFile:
    return as_lake_path(location).open_input_file()


def open_text(location: Location) -> io.TextIOWrapper:
    """A text (UTF-8) reader over a lake file, streamed (the quarantine JSONL)."""
    return io.TextIOWrapper(as_lake_path(location).open_input_stream(), encoding="utf-8", newline="\n")


def open_parquet(location: Location) -> pq.ParquetFile:
    """A Parquet file opened on its filesystem; read it with :func:`row_group_batches` to stream it."""
    lake_path = as_lake_path(location)
    # no read-ahead: Arrow's pre-buffering kept coalesced row groups in memory (docs/performance.md, Memory)
    return pq.ParquetFile(lake_path.path, filesystem=lake_path.fs, pre_buffer=False, buffer_size=1 << 20)


def row_group_batches(
    parquet: pq.ParquetFile, *, batch_size: int, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """The file's rows in batches, one row group at a time.

    Why not ``parquet.iter_batches()`` over the whole file: with pyarrow's default ``pre_buffer=True`` the
    reader pre-buffers every row group it is asked for, coalescing adjacent ones, and keeps them: measured
    here, iterating a 90 MB file that way peaked at 95 MB of Arrow memory, one row group at a time at 5 MB.
    Asking for one row group per call bounds memory by a row group and makes one ranged read per row group.
    """
    for index in range(parquet.num_row_groups):
        yield from parquet.iter_batches(batch_size=batch_size, row_groups=[index], columns=columns)

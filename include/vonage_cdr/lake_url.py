"""What ``CDR_LAKE_ROOT`` may say: a local directory, ``file:///dir``, or ``s3://bucket/prefix``.

Only the standard library here: settings (imported by DAG files at parse time) validate the root with it,
and nothing may touch pyarrow or the network while a DAG file is parsed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote, unquote, urlsplit

__all__ = ["LakeRoot", "file_url", "parse_lake_root"]

# S3 bucket names: 3-63 characters, lowercase letters, digits, dots and hyphens, starting and ending with a
# letter or digit (the AWS rules; S3-compatible stores accept this subset too).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class LakeRoot(NamedTuple):
    """A parsed lake root: ``scheme`` is ``file`` or ``s3``; ``path`` is the path on that filesystem
    (an absolute directory locally, ``bucket/prefix`` on S3, without a trailing slash)."""

    scheme: str
    path: str

    @property
    def url(self) -> str:
        return file_url(self.path) if self.scheme == "file" else f"s3://{self.path}"


def file_url(path: str) -> str:
    """``file:///dir/product=SMS/...``: percent-encoded where needed, but the hive ``=`` kept readable."""
    return "file://" + quote(path, safe="/=")


def parse_lake_root(value: str | Path) -> LakeRoot:
    """Parse and check a lake root; raises ValueError naming what is wrong (never echoing a secret)."""
    if isinstance(value, Path):
        return LakeRoot("file", str(value.absolute()))
    text = value.strip()
    if not text:
        raise ValueError("the lake root is empty")
    if "://" not in text:
        return LakeRoot("file", str(Path(text).expanduser().absolute()))
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError("a file:// lake root must be local (file:///path)")
        return LakeRoot("file", str(Path(unquote(parts.path)).absolute()))
    if scheme in ("s3", "s3a"):
        if "@" in parts.netloc:
            raise ValueError(
                "the lake root must not carry credentials; put them in the Airflow connection named by "
                "CDR_LAKE_CONN_ID"
            )
        bucket = parts.netloc
        if not _BUCKET.match(bucket):
            raise ValueError(f"{bucket!r} is not a valid S3 bucket name")
        if parts.query or parts.fragment:
            raise ValueError(
                "the lake root must not have a query or fragment (endpoint and region go in the "
                "connection's extras)"
            )
        prefix = "/".join(p for p in unquote(parts.path).split("/") if p)
        if any(p in (".", "..") for p in prefix.split("/")):
            raise ValueError("the lake root's prefix must not contain '.' or '..'")
        return LakeRoot("s3", f"{bucket}/{prefix}" if prefix else bucket)
    raise ValueError(
        f"unsupported lake root scheme {scheme!r}: use a local path, file:///path or s3://bucket/prefix "
        "(S3-compatible stores such as MinIO or Ceph: s3:// with endpoint_url in the connection)"
    )

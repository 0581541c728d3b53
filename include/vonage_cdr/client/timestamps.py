"""Timestamps as Vonage writes them, and as we send them.

Vonage responses use two offset styles side by side (``+0000`` in older JSON, ``+00:00`` in newer JSON
and in CSV files, sometimes ``Z``), optionally with milliseconds. Every value is turned into an aware
UTC ``datetime`` so comparisons between a report we created and one we listed cannot go wrong.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_TS = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<frac>\.\d{1,9})?"
    r"\s*(?P<tz>Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_vonage_timestamp(value: str | int | float | datetime) -> datetime:
    """Parse ``2020-06-04T12:21:35+0000``, ``...+00:00``, ``...Z``, ``...-0000`` (with optional fraction).

    Also accepts epoch milliseconds (int/float or a digit string) and datetimes. A value without an
    offset is taken as UTC (Vonage documents all response times as UTC). Raises ``ValueError`` on
    anything else, naming the value.
    """
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000.0, tz=UTC)
    text = str(value).strip()
    if re.fullmatch(r"-?\d{10,}", text):
        return datetime.fromtimestamp(int(text) / 1000.0, tz=UTC)
    match = _TS.match(text)
    if not match:
        raise ValueError(f"not a Vonage timestamp: {value!r}")
    time_part = match["time"] if match["time"].count(":") == 2 else match["time"] + ":00"
    frac = (match["frac"] or "")[:7].ljust(7, "0") if match["frac"] else ""
    base = datetime.fromisoformat(f"{match['date']}T{time_part}{frac[:7]}")
    tz = match["tz"]
    if tz is None or tz in ("Z", "z"):
        offset = timedelta(0)
    else:
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        offset = sign * timedelta(hours=hours, minutes=minutes)
    return (base - offset).replace(tzinfo=UTC)


def parse_optional_timestamp(value: object) -> datetime | None:
    """Like :func:`parse_vonage_timestamp` but ``None``/``""`` give ``None`` (empty CSV/JSON values)."""
    if value is None or value == "":
        return None
    return parse_vonage_timestamp(value)  # type: ignore[arg-type]


def format_vonage_timestamp(value: datetime) -> str:
    """Format for requests: UTC with a ``Z`` suffix (the spec's preferred form; no ``+`` to URL-encode).

    Naive datetimes are taken as UTC. Milliseconds are kept only when present.
    """
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if aware.microsecond:
        return aware.strftime("%Y-%m-%dT%H:%M:%S.") + f"{aware.microsecond // 1000:03d}Z"
    return aware.strftime("%Y-%m-%dT%H:%M:%SZ")


def coerce_datetime(value: str | datetime) -> datetime:
    """Accept a datetime or any string Vonage or Airflow templates produce (``{{ ds }}`` included)."""
    if isinstance(value, datetime):
        return parse_vonage_timestamp(value)
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    try:
        return parse_vonage_timestamp(text)
    except ValueError:
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)

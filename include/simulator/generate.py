"""Deterministic record streams: which records exist for (seed, account, product, day) and their values.

Why: the simulator never stores records. Record i of N on a day has its event time in slot i
(`day_start + (i + jitter) * 86400 / N`), so event time is monotone in i and a time window maps to an
index range in O(1); sync pages and cursors are index offsets; the async writer walks indexes backwards
for newest-first files. Each record also has a deterministic indexing delay (mostly seconds, ~1% up to
10 minutes) after which it becomes visible, and mutable products compute status/price/date_finalized as
of a simulated time, so sync and async views at the same simulated time agree exactly.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from include.simulator.builders import BUILDERS, Ctx, Record
from include.simulator.config import SimulatorConfig
from include.simulator.products import PRODUCT_CODES, PRODUCTS, ProductSpec
from include.simulator.values import M64, Rng, key64, mix64, unmix64

DAY = 86400
_OUT_SHARE = {"SMS": 0.75, "MESSAGES": 0.7}  # share of outbound records; voice products 0.6


def day_start_ts(d: date) -> int:
    return calendar.timegm(d.timetuple())


def retention_floor(product: str, as_of: datetime) -> date:
    """First day whose records still exist: 13 calendar months back, VIDEO-API 90 days."""
    spec = PRODUCTS[product]
    if spec.retention_days:
        return (as_of - timedelta(days=spec.retention_days)).date()
    y, m = as_of.year, as_of.month - 13
    while m <= 0:
        y, m = y - 1, m + 12
    last = calendar.monthrange(y, m)[1]
    return date(y, m, min(as_of.day, last))


class DayStream:
    """The records of one (account, product, day)."""

    __slots__ = (
        "account",
        "akey",
        "builder",
        "count",
        "day",
        "key",
        "ord",
        "out_share",
        "pcode",
        "primary",
        "slot",
        "spec",
        "start",
    )  # fmt: skip

    def __init__(
        self, seed: int, account: str, primary: str, spec: ProductSpec, day: date, count: int
    ) -> None:
        self.account, self.primary, self.spec, self.day, self.count = account, primary, spec, day, count
        self.key = key64(seed, account, spec.name, day.toordinal())
        self.akey = key64(seed, account)
        self.ord = day.toordinal()
        self.pcode = PRODUCT_CODES[spec.name]
        self.start = day_start_ts(day)
        self.slot = DAY / count if count else DAY
        self.builder = BUILDERS[spec.name]
        self.out_share = _OUT_SHARE.get(spec.name, 0.6) if spec.direction != "forbidden" else 1.0

    def event_ts(self, i: int) -> float:
        jitter = (mix64(self.key ^ ((i * 0xD6E8FEB86659FD93) & M64)) >> 11) / 9007199254740992.0
        return self.start + (i + jitter * 0.999) * self.slot

    def first_at_or_after(self, ts: float) -> int:
        """Smallest index whose event time is >= ts (count if none)."""
        if ts <= self.start:
            return 0
        i = int((ts - self.start) / self.slot)
        if i >= self.count:
            return self.count
        return i if self.event_ts(i) >= ts else i + 1

    def visible_at(self, i: int, ev: float) -> float:
        h = mix64(self.key ^ 0x5BD1E995 ^ i)
        u = (h & 0xFFFF) / 65536.0
        frac = (h >> 16 & 0xFFFF) / 65536.0
        if u < 0.95:
            delay = 1 + frac * 29
        elif u < 0.99:
            delay = 30 + frac * 90
        else:
            delay = 120 + frac * 480
        return ev + delay

    def direction(self, i: int) -> str:
        if self.spec.direction == "forbidden":
            return ""
        h = mix64(self.key ^ 0x27D4EB2F ^ (i << 1))
        return "outbound" if (h >> 11) / 9007199254740992.0 < self.out_share else "inbound"

    def record_id(self, i: int, variant: int = 0) -> str:
        payload = (variant << 60) | (self.pcode << 52) | (self.ord << 32) | i
        tag = mix64(payload ^ self.akey)
        lo = payload ^ mix64(tag ^ 0xA0761D6478BD642F)
        h = f"{tag:016x}{lo:016x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def natural_id(self, i: int) -> str:
        name = self.spec.name
        if name == "SMS":
            payload = (1 << 60) | (self.pcode << 52) | (self.ord << 32) | i
            return f"{mix64(payload ^ self.akey):016X}"
        if name == "MESSAGES" or not self.spec.natural_id:
            return self.record_id(i)
        nid = self.record_id(i, 1)
        return nid.replace("-", "") if name == "VERIFY-API" else nid

    def record(self, i: int, as_of: float, ev: float | None = None) -> Record:
        if ev is None:
            ev = self.event_ts(i)
        ctx = Ctx(self.account, self.spec.ts_style, self.record_id(i), self.natural_id(i), self.direction(i),
                  as_of, self.primary)  # fmt: skip
        return self.builder(Rng(self.key ^ (i * 0x9FB21C651E98DF25)), ev, ctx)


def decode_id(value: str, akey: int) -> tuple[int, int, int] | None:
    """(product code, day ordinal, index) encoded in a record id / natural id, or None."""
    h = value.replace("-", "").lower()
    try:
        if len(h) == 32:
            tag, lo = int(h[:16], 16), int(h[16:], 16)
            payload = lo ^ mix64(tag ^ 0xA0761D6478BD642F)
            if mix64(payload ^ akey) != tag:
                return None
        elif len(h) == 16:
            payload = unmix64(int(h, 16)) ^ akey
            if payload >> 60 != 1:
                return None
        else:
            return None
    except ValueError:
        return None
    return (payload >> 52) & 0xFF, (payload >> 32) & 0xFFFFF, payload & 0xFFFFFFFF


class DataModel:
    """Read-only view of all records the simulator serves."""

    def __init__(self, cfg: SimulatorConfig) -> None:
        self.cfg = cfg
        self._stream = lru_cache(maxsize=4096)(self._make_stream)

    def primary_of(self, account_id: str) -> str:
        for a in self.cfg.accounts:
            if a.owns(account_id):
                return a.api_key
        return account_id

    def _make_stream(self, account: str, product: str, day: date) -> DayStream:
        spec = PRODUCTS[product]
        return DayStream(
            self.cfg.seed, account, self.primary_of(account), spec, day, self.cfg.count_for(product)
        )

    def stream(self, account: str, product: str, day: date) -> DayStream:
        return self._stream(account, product, day)

    def days(self, product: str, start: float, end: float, as_of: datetime) -> list[date]:
        """Days overlapping [start, end) that are inside retention as of `as_of`."""
        if end <= start:
            return []
        first = datetime.fromtimestamp(start, UTC).date()
        last = datetime.fromtimestamp(end - 1e-6, UTC).date()
        floor = retention_floor(product, as_of)
        out, d = [], max(first, floor)
        while d <= last:
            out.append(d)
            d += timedelta(days=1)
        return out

    def iter_window(
        self,
        account: str,
        product: str,
        start: float,
        end: float,
        *,
        as_of: datetime,
        direction: str | None = None,
        filters: Mapping[str, str] | None = None,
        reverse: bool = False,
        position: tuple[int, int] | None = None,
    ) -> Iterator[tuple[tuple[int, int], Record]]:
        """Visible records with event time in [start, end), in event order (or reversed).

        Yields ((day ordinal, index), full record). `position` resumes at (day ordinal, index) inclusive
        (ascending order only).
        """
        as_of_ts = as_of.timestamp()
        days = self.days(product, start, end, as_of)
        if reverse:
            days.reverse()
        flt = {k: v.lower() for k, v in (filters or {}).items()}
        for d in days:
            s = self.stream(account, product, d)
            lo, hi = s.first_at_or_after(start), s.first_at_or_after(end)
            if position is not None and not reverse:
                if d.toordinal() < position[0]:
                    continue
                if d.toordinal() == position[0]:
                    lo = max(lo, position[1])
            rng = range(hi - 1, lo - 1, -1) if reverse else range(lo, hi)
            for i in rng:
                ev = s.event_ts(i)
                if ev > as_of_ts or s.visible_at(i, ev) > as_of_ts:
                    continue
                if direction and s.direction(i) != direction:
                    continue
                rec = s.record(i, as_of_ts, ev)
                if flt and any(rec.get(k, "").lower() != v for k, v in flt.items() if k in rec):
                    continue
                yield (d.toordinal(), i), rec

    def lookup_id(self, account: str, product: str, value: str, as_of: datetime) -> Record | None:
        """The visible record whose `id` (or natural id) is `value`, within retention, or None."""
        s0 = self.stream(account, product, as_of.date())
        decoded = decode_id(value, s0.akey)
        if decoded is None or decoded[0] != PRODUCT_CODES[product]:
            return None
        _, ordinal, i = decoded
        d = date.fromordinal(ordinal)
        if d < retention_floor(product, as_of):
            return None
        s = self.stream(account, product, d)
        if i >= s.count:
            return None
        ev = s.event_ts(i)
        ts = as_of.timestamp()
        if ev > ts or s.visible_at(i, ev) > ts:
            return None
        rec = s.record(i, ts, ev)
        spec = PRODUCTS[product]
        if value not in (rec.get("id"), rec.get(spec.natural_id or "id")):
            return None
        return rec


def project(rec: Record, spec: ProductSpec, include_message: bool, show_concatenated: bool) -> Record:
    """The record as the CSV/JSON of a request with these options carries it (column order kept)."""
    cols = spec.view_columns(rec.get("direction") or None, include_message, show_concatenated)
    return {c: rec.get(c, "") for c in cols}

"""Simulated wall clock shared by every part of the simulator.

Why: report lifecycles, late status updates, visibility delays and the 4-day / 72-hour expiries all
depend on "now". Tests must be able to jump hours or days ahead without sleeping, while `make sandbox`
must behave like a real service, so the clock runs at real rate from a configurable start and can be
advanced or set at any time (thread-safe: the server runs in another thread than the test).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class SimClock:
    """A clock that runs at `rate` x real time from `start` (default: the real current time)."""

    def __init__(self, start: datetime | None = None, rate: float = 1.0) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("SimClock start must be timezone-aware")
        self._lock = threading.Lock()
        self._base = (start or datetime.now(UTC)).astimezone(UTC)
        self._mono0 = time.monotonic()
        self._rate = rate

    def now(self) -> datetime:
        with self._lock:
            return self._base + timedelta(seconds=(time.monotonic() - self._mono0) * self._rate)

    def timestamp(self) -> float:
        """Simulated now as POSIX seconds (cheap path for hot loops)."""
        return self.now().timestamp()

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._base += delta
            return self._base + timedelta(seconds=(time.monotonic() - self._mono0) * self._rate)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("SimClock.set needs a timezone-aware datetime")
        with self._lock:
            self._base = when.astimezone(UTC)
            self._mono0 = time.monotonic()

    def __repr__(self) -> str:
        return f"SimClock(now={self.now().isoformat()})"

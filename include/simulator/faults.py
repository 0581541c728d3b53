"""Seeded fault injection and the documented per-account rate limits.

Why: the pipeline's retry, back-off and integrity checks are only trustworthy if they have been hit by
the failures Vonage can produce: 429 (or 403 with a rate-limit body: docs/vonage-reports-api.md, open
question 5), 5xx, slow answers, hangs, connection resets, truncated/corrupt/HTML downloads and FAILED reports.
Decisions come from one RNG seeded by FaultConfig.seed, so a failing run can be replayed. Faults can be
swapped at run time (Simulator.set_faults) because tests often want a fault for one phase only.
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque

from include.simulator.config import FaultConfig


class FaultState:
    def __init__(self, faults: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.set(faults)
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def set(self, faults: FaultConfig) -> None:
        with self._lock:
            self.config = faults
            self._rng = random.Random(faults.seed)  # noqa: S311 - fault schedule, not cryptography

    def roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def applies_to(self, path: str) -> bool:
        prefixes = self.config.paths
        return not prefixes or any(path.startswith(p) for p in prefixes)

    def rate_limited(self, account: str, kind: str) -> int | None:
        """Record a hit; return the limit (requests/second) when this hit exceeds it, else None."""
        cfg = self.config
        if not cfg.rate_limit:
            return None
        limit = cfg.rate_limit_sync_rps if kind == "sync" else cfg.rate_limit_async_rps
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault((account, kind), deque())
            while q and now - q[0] >= 1.0:
                q.popleft()
            if len(q) >= limit:
                return limit
            q.append(now)
            return None

    # -- optional parts missing, lost answers (FaultConfig.list_reports_status ... drop_create_answers) --
    def drop_create_answer(self) -> bool:
        """True for the first ``drop_create_answers`` creates under the current FaultConfig."""
        with self._lock:
            if getattr(self, "_drops_config", None) is not self.config:
                self._drops_config, self._drops = self.config, 0
            if self._drops >= self.config.drop_create_answers:
                return False
            self._drops += 1
            return True

"""Seeded fault injection and the documented per-account rate limits.

Why: the pipeline's retry, back-off and integrity checks are only trustworthy if they have been hit by
the failures Vonage can produce: 429 (or 403 with a rate-limit body: docs/vonage-reports-api.md, open
question 5) and bursts of them, 5xx, slow answers, hangs, connection resets, truncated/corrupt/HTML
downloads, short files, missing or renamed columns, undecodable rows, expired cursors and FAILED reports.
Request decisions come from one RNG seeded by FaultConfig.seed; file faults from (seed, report, download
attempt), see file_faults.py; so a failing run can be replayed. Faults can be swapped at run time
(Simulator.set_faults) because tests often want a fault for one phase only. Every injected fault is
counted by kind, so a soak can report what it survived.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque

from include.simulator.config import FaultConfig


class FaultState:
    def __init__(self, faults: FaultConfig) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._downloads: Counter[str] = Counter()
        self.set(faults)
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def set(self, faults: FaultConfig) -> None:
        with self._lock:
            self.config = faults
            self._rng = random.Random(faults.seed)  # noqa: S311 - fault schedule, not cryptography
            self._burst: dict[str, int] = {}

    # -- accounting ------------------------------------------------------------------------------------
    def count(self, kind: str, n: int = 1) -> None:
        """Record that a fault of `kind` was injected (or an expiry was answered)."""
        with self._lock:
            self._counts[kind] += n

    def counts(self) -> dict[str, int]:
        """Faults injected so far, by kind (kept across `set`: a soak swaps configs and sums them all)."""
        with self._lock:
            return dict(sorted(self._counts.items()))

    def next_download(self, report_key: str) -> int:
        """Number of this download among the downloads of the report's request (1, 2, ...)."""
        with self._lock:
            self._downloads[report_key] += 1
            return self._downloads[report_key]

    def burst_429(self, account: str) -> bool:
        """True when this request of `account` is answered 429 as part of an injected burst."""
        cfg = self.config
        with self._lock:
            left = self._burst.get(account, 0)
            if left > 0:
                self._burst[account] = left - 1
            elif cfg.rate_limit_burst_rate > 0 and self._rng.random() < cfg.rate_limit_burst_rate:
                self._burst[account] = max(0, cfg.rate_limit_burst_requests - 1)
            else:
                return False
            self._counts["rate_limit_burst"] += 1
            return True

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
                self._counts["rate_limit"] += 1
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

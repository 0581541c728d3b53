"""The token bucket keeps every one-second window under the account's limit, across threads."""

from __future__ import annotations

import itertools
import threading

from include.vonage_cdr.client.http import TokenBucket, parse_retry_after


class FakeClock:
    """A clock that only moves when someone sleeps: the bucket is tested without wall time."""

    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def time(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def max_in_any_window(times: list[float], window: float = 1.0) -> int:
    times = sorted(times)
    best = 0
    for i, t in enumerate(times):
        j = i
        while j < len(times) and times[j] < t + window - 1e-9:
            j += 1
        best = max(best, j - i)
    return best


def test_sequential_callers_stay_under_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(4.5, clock=clock.time, sleep=clock.sleep)
    sent = []
    for _ in range(50):
        bucket.acquire()
        sent.append(clock.time())
    assert max_in_any_window(sent) <= 5
    assert sent[-1] >= 49 / 4.5 - 1e-6  # no request was sent early


def test_concurrent_threads_share_the_budget() -> None:
    """Tokens are reserved under a lock: 8 threads x 10 calls get 80 distinct slots 1/rate apart."""
    frozen = 100.0
    bucket = TokenBucket(9.0, clock=lambda: frozen, sleep=lambda _s: None)
    due_times: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            due = bucket.acquire()
            with lock:
                due_times.append(due)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    due_times.sort()
    assert len(due_times) == 80
    gaps = [b - a for a, b in itertools.pairwise(due_times)]
    assert min(gaps) >= 1 / 9.0 - 1e-9
    assert max_in_any_window(due_times) <= 9


def test_retry_after_forms() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("0.5") == 0.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0

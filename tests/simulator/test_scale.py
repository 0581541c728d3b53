"""A 1-million-record report is generated and served with bounded server memory (slow; 10 M: opt-in scale)."""

from __future__ import annotations

import threading
import time

import psutil
import pytest
import requests

from include.simulator import FaultConfig
from tests.simulator.helpers import auth, create, wait_terminal


def _peak_rss_growth(sim, product: str, n: int) -> tuple[float, int]:
    proc = psutil.Process()
    base = proc.memory_info().rss
    peak = [base]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.05)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        rid = create(
            sim, product=product, date_start="2026-11-19T00:00:00Z", date_end="2026-11-20T00:00:00Z"
        ).json()
        status = wait_terminal(sim, rid["request_id"], timeout=900)
        assert status["items_count"] == n
        size = 0
        with requests.get(
            status["_links"]["download_report"]["href"], auth=auth(sim), stream=True, timeout=60
        ) as r:
            for chunk in r.iter_content(1 << 20):
                size += len(chunk)
    finally:
        stop.set()
        t.join()
    return (peak[0] - base) / 2**20, size


@pytest.mark.parametrize(
    "n", [pytest.param(1_000_000, marks=pytest.mark.slow), pytest.param(10_000_000, marks=pytest.mark.scale)]
)
def test_large_report_memory_is_bounded(sim, n):
    # the server runs in this process, so process RSS growth covers generation, zip writing and serving
    s = sim(records_per_day={"SMS-TRAFFIC-CONTROL": n}, faults=FaultConfig(rate_limit=False),
            async_max_records=20_000_000)  # fmt: skip
    growth, size = _peak_rss_growth(s, "SMS-TRAFFIC-CONTROL", n)
    print(f"\n{n:,} records: zip {size / 2**20:.1f} MiB, peak RSS growth {growth:.1f} MiB")
    assert growth < 150

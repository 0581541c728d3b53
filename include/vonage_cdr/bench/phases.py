"""The measured steps that run in a child process of their own, so each peak RSS is its own.

Times are taken inside the child and exclude its start-up (imports). Peak RSS is the child's whole
``ru_maxrss``: interpreter, pyarrow and psycopg included, which is what a worker running the task holds.
"""

from __future__ import annotations

import os
import resource
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from include.vonage_cdr.bench.data import ACCOUNT, DAY
from include.vonage_cdr.products import get_product

__all__ = ["load_report", "peak_rss_mib"]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far: the kernel's high-water mark of its address space.

    Not ``ru_maxrss``: a spawned child inherits the parent's figure through fork and exec, which made every
    child report the (larger) parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds(pid: int | None = None) -> float | None:
    """User + system CPU seconds of this process (all threads), or of another local process (a PostgreSQL
    backend of the throwaway server); None when it cannot be read."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_report(dsn: str, zip_path: str, parquet_path: str) -> dict[str, Any]:
    """What the daily DAG does with a downloaded report: normalize the ZIP into the Parquet file and load
    it at the same time (warehouse/load.py, load_while_normalizing); one transaction, committed."""
    import pyarrow as pa

    from include.vonage_cdr.normalize import normalize_zip
    from include.vonage_cdr.warehouse.load import LoadRequest, load_while_normalizing

    product = get_product("SMS")
    base = peak_rss_mib()
    request = LoadRequest(
        product=product,
        account_id=ACCOUNT,
        direction="outbound",
        mode="async",
        window_start=DAY,
        window_end=DAY + timedelta(days=1),
        report_request_id=f"bench-{uuid.uuid4()}",
        source_file=Path(zip_path).name,
        cdrs_billed=0,
        started_at=datetime.now(UTC),
    )
    import psycopg

    conn = psycopg.connect(dsn, autocommit=True)
    backend = conn.info.backend_pid
    backend_cpu, client_cpu = cpu_seconds(backend), cpu_seconds()
    started = time.perf_counter()
    normalized, loaded = load_while_normalizing(
        conn,
        request,
        lambda sink: normalize_zip(
            Path(zip_path), product, Path(parquet_path), direction="outbound", on_batch=sink
        ),
    )
    seconds = time.perf_counter() - started
    backend_after, client_after = cpu_seconds(backend), cpu_seconds()
    conn.close()
    return {
        "seconds": seconds,
        "client_cpu_s": (client_after or 0) - (client_cpu or 0),
        "backend_cpu_s": None
        if backend_cpu is None or backend_after is None
        else backend_after - backend_cpu,
        "normalize_seconds": normalized.seconds,
        "rows_read": normalized.rows_read,
        "load": loaded,
        "base_rss_mib": base,
        "peak_rss_mib": peak_rss_mib(),
        "arrow_peak_mib": pa.default_memory_pool().max_memory() / 2**20,
    }

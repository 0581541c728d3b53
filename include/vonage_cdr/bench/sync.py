"""``make bench MODE=sync``: the incremental DAG's read of one window, measured through its own code.

The simulator runs in a process of its own (in this process it would share our interpreter lock and slow
both sides down) with its documented rate limit of 10 sync requests per second per account on, pages of
1,000 records and a frozen clock. One partition (SMS, outbound) is read from scratch: the window is the
default first look-back of an hour, holding ``rows`` records. ``incremental.sync_partition`` does what the
Airflow task does: read every page, normalize, load, advance the watermark.

Figures: ``read_records_per_s`` is records over the time from the first request to the normalized file
(the ledger's ``download_seconds``, which is what the issue calls the DAG's own read), ``records_per_s``
the same over the whole task (load and commit included); ``http_429`` the rate-limit answers the simulator
gave, ``sync_requests`` all its records requests.
"""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg

__all__ = ["run_sync"]

#: the simulator's frozen "now": the window read is the hour before it (minus the safety margin)
SIM_NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
#: the simulator's share of outbound SMS records (the rest are inbound, read by another partition)
OUTBOUND_SHARE = 0.75


def _simulator(pipe: Connection, records_per_day: int) -> None:
    """Child process: run the simulator until told to stop; answer with what it served."""
    from include.simulator import SimClock, Simulator, SimulatorConfig

    config = SimulatorConfig(
        clock=SimClock(start=SIM_NOW, rate=0),
        records_per_day={"SMS": records_per_day, "*": 10},
        log_requests=False,
    )
    sim = Simulator(config).start()
    pipe.send({"base_url": sim.base_url, "api_key": sim.api_key, "api_secret": sim.api_secret})
    pipe.recv()  # "stop"
    served = [entry for entry in sim.request_log if entry[1] == "/v2/reports/records"]
    pipe.send(
        {
            "sync_requests": len(served),
            "http_429": sum(1 for entry in served if entry[2] == 429),
            "http_errors": sum(1 for entry in served if entry[2] >= 400),
        }
    )
    sim.stop()


def run_sync(rows: int, dsn: str | None, keep_db: bool, work: Path) -> dict[str, Any]:
    from include.vonage_cdr.bench import _database, load_average
    from include.vonage_cdr.client import ReportsClient
    from include.vonage_cdr.client.models import ClientSettings
    from include.vonage_cdr.incremental import SyncPartition, sync_partition
    from include.vonage_cdr.settings import Settings
    from include.vonage_cdr.warehouse.migrate import apply_migrations

    settings = Settings()
    window = settings.sync_initial_lookback
    records_per_day = round(rows * (timedelta(days=1) / window) / OUTBOUND_SHARE)
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_simulator, args=(child, records_per_day), daemon=True)
    process.start()
    try:
        sim = parent.recv()
        with _database(dsn, keep_db, work) as db:
            apply_migrations(db)
            part = SyncPartition("SMS", sim["api_key"], "outbound")
            load_start = load_average()
            with ReportsClient(sim["base_url"], sim["api_key"], sim["api_secret"]) as client:
                started = time.perf_counter()
                summary = sync_partition(
                    client, db, part, now=SIM_NOW, settings=settings, work_dir=work / "sync"
                )
                seconds = time.perf_counter() - started
            with psycopg.connect(db) as conn:
                ledger = conn.execute(
                    "SELECT sum(rows_read), sum(download_seconds), sum(load_seconds) FROM cdr.load_ledger"
                ).fetchone()
        parent.send("stop")
        served = parent.recv()
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()
    read_rows, read_seconds, load_seconds = (float(v or 0) for v in ledger or (0, 0, 0))
    return {
        "mode": "sync",
        "rows": int(read_rows),
        "windows": summary["windows"],
        "read_s": round(read_seconds, 2),
        "read_records_per_s": round(read_rows / read_seconds) if read_seconds else 0,
        "load_s": round(load_seconds, 2),
        "task_s": round(seconds, 2),
        "records_per_s": round(read_rows / seconds) if seconds else 0,
        "client_requests_per_s": ClientSettings().sync_requests_per_second,
        **served,
        "load_average": [load_start, load_average()],
    }

"""Freshness and the incremental load's working files: what an operator watching the pipeline relies on."""

from __future__ import annotations

import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from include.simulator import Simulator
from include.vonage_cdr.client import ClientSettings, ReportsClient
from include.vonage_cdr.incremental import SyncPartition, record_freshness, sync_partition
from include.vonage_cdr.normalize import normalize_csv_stream
from include.vonage_cdr.products import get_product
from include.vonage_cdr.settings import Settings
from include.vonage_cdr.warehouse.load import LoadRequest, load_normalized
from tests.faked_clock import file_ages

SMS = get_product("SMS")
HEADER = b'"account_id","direction","id","date_received","currency","total_price"\n'


def load_day(dsn: str, tmp_path: Path, day: datetime, now: datetime) -> None:
    """A daily load of ``day`` (records through 23:00) that records freshness as of ``now``."""
    times = [(day + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ") for h in range(24)]
    rows = b"".join(
        f'"abcd1234","outbound","{day:%m%d}-{h}","{t}","EUR","0.01"\n'.encode() for h, t in enumerate(times)
    )
    result = normalize_csv_stream(
        io.BytesIO(HEADER + rows), SMS, tmp_path / f"{day:%m%d}.parquet", source_name="r"
    )
    part = SyncPartition("SMS", "abcd1234", "outbound")
    req = LoadRequest(
        product=SMS,
        account_id="abcd1234",
        direction="outbound",
        mode="async",
        window_start=day,
        window_end=day + timedelta(days=1),
        report_request_id=f"req-{day:%m%d}",
        source_file="r",
        cdrs_billed=24,
        started_at=now,
    )
    load_normalized(
        dsn,
        req,
        result,
        extra_sql_in_txn=lambda conn, load_id: record_freshness(
            conn, part, SMS, now, load_id, mode="async", window_end=day + timedelta(days=1)
        ),
    )


def freshness(dsn: str) -> tuple[Any, ...]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT newest_event_at, checked_at, lag_seconds FROM cdr.freshness").fetchone()
    assert row is not None
    return row


def test_reloading_an_older_day_never_moves_freshness_backwards(
    migrated_warehouse: Any, tmp_path: Path
) -> None:
    dsn = migrated_warehouse.dsn
    day = datetime(2026, 11, 19, tzinfo=UTC)
    checked = day + timedelta(days=1, hours=3)
    load_day(dsn, tmp_path, day, checked)
    newest = day + timedelta(hours=23)
    assert freshness(dsn) == (newest, checked, (checked - newest).total_seconds())

    load_day(
        dsn, tmp_path, day - timedelta(days=3), checked - timedelta(days=2)
    )  # an older day, older report
    assert freshness(dsn) == (newest, checked, (checked - newest).total_seconds())  # unchanged

    later = checked + timedelta(hours=1)
    load_day(dsn, tmp_path, day - timedelta(days=1), later)  # an older day checked later: newest stays
    assert freshness(dsn) == (newest, later, (later - newest).total_seconds())


@pytest.fixture
def client(simulator: Simulator) -> Any:
    settings = ClientSettings(backoff_initial=0.05, backoff_max=0.5, read_timeout=10.0)
    real = ReportsClient(
        simulator.base_url, simulator.api_key, simulator.api_secret, settings, clock=simulator.clock.now
    )
    try:
        yield real
    finally:
        real.close()


@file_ages
def test_a_killed_sync_runs_files_are_removed_by_the_next_run(
    simulator: Simulator, client: ReportsClient, migrated_warehouse: Any, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    part = SyncPartition("SMS", simulator.api_key, "outbound")
    mine = work / f"sync-sms-{simulator.api_key}-outbound"
    left = [
        mine / "window-0123abcd" / ".window.parquet.0123abcd4567.tmp",
        mine / "window-0123abcd" / "window.parquet",
    ]
    other = (
        work / f"sync-messages-{simulator.api_key}-outbound" / "window-89abcdef" / ".window.parquet.89ab.tmp"
    )
    an_hour_ago = time.time() - 3600
    for path in [*left, other]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")
        os.utime(path, (an_hour_ago, an_hour_ago))
    os.utime(left[0].parent, (an_hour_ago, an_hour_ago))

    summary = sync_partition(
        client,
        migrated_warehouse.dsn,
        part,
        now=simulator.clock.now(),
        settings=Settings(sync_initial_lookback=timedelta(minutes=30)),
        work_dir=work,
    )

    assert summary["windows"] >= 1
    assert [p for p in left if p.exists()] == [] and not left[0].parent.exists()
    assert list(mine.rglob("*")) == []  # and this run left nothing behind either
    assert other.exists()  # another partition's files are not this run's to judge

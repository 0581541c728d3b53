"""The daily load of one report, against the simulator over real HTTP and a real PostgreSQL.

A file can be short or damaged on its way (a proxy, a disk, Vonage itself): ``Cutting`` wraps the real client
and changes what the first download(s) deliver, the way such a fault would. What a billing team needs: a file
whose rows differ from the report's ``items_count`` never loads as a complete day, nothing of it reaches the
warehouse or the lake, and the retry fetches the file again.
"""

from __future__ import annotations

import io
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from include.simulator import Simulator
from include.vonage_cdr.client import ClientSettings, Report, ReportRequest, ReportsClient, ReportTruncated
from include.vonage_cdr.daily_load import load_report_partition
from include.vonage_cdr.lake import Lake
from include.vonage_cdr.normalize.errors import IncompleteFile
from tests.faked_clock import file_ages

DAY = datetime(2026, 11, 15, tzinfo=UTC)  # settled: the simulator's clock starts 2026-11-20T06:00Z


class Cutting:
    """The real client, except that the first ``times`` downloads are rewritten by ``cut``."""

    def __init__(self, client: ReportsClient, cut: Callable[[bytes], bytes], times: int = 1) -> None:
        self._client = client
        self._cut = cut
        self._left = times
        self.downloads = 0
        self.report_override: Callable[[Report], Report] | None = None

    def get_report(self, request_id: str) -> Report:
        report = self._client.get_report(request_id)
        return self.report_override(report) if self.report_override else report

    def download_report(self, report: Report, dest: Path) -> Path:
        path = self._client.download_report(report, dest)
        self.downloads += 1
        if self._left > 0:
            self._left -= 1
            path.write_bytes(self._cut(path.read_bytes()))
        return path

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def rezip(data: bytes, change: Callable[[str, bytes], bytes | None]) -> bytes:
    """The ZIP with each member's content changed (None drops the member)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = change(info.filename, src.read(info))
            if content is not None:
                dst.writestr(info.filename, content)
    return out.getvalue()


def keep_lines(keep: Callable[[list[bytes]], list[bytes]]) -> Callable[[bytes], bytes]:
    return lambda data: rezip(data, lambda name, content: b"".join(keep(content.splitlines(keepends=True))))


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


CUTS: dict[str, Callable[[bytes], bytes]] = {
    "empty zip": lambda data: rezip(data, lambda name, content: None),
    "zip without a csv member": lambda data: zip_of({"readme.txt": b"no data"}),
    "header only": keep_lines(lambda lines: lines[:1]),
    "half of the rows": keep_lines(lambda lines: lines[: 1 + (len(lines) - 1) // 2]),
    "one row more": keep_lines(lambda lines: [*lines, lines[-1]]),
}


@pytest.fixture
def client(simulator: Simulator) -> Iterator[ReportsClient]:
    settings = ClientSettings(backoff_initial=0.05, backoff_max=0.5, read_timeout=10.0)
    real = ReportsClient(
        simulator.base_url, simulator.api_key, simulator.api_secret, settings, clock=simulator.clock.now
    )
    try:
        yield real
    finally:
        real.close()


@pytest.fixture
def completed(simulator: Simulator, client: ReportsClient) -> dict[str, Any]:
    """An SMS outbound report of DAY, completed by the simulator (what the report operator hands over)."""
    req = ReportRequest(
        product="SMS",
        account_id=simulator.api_key,
        date_start=DAY,
        date_end=DAY + timedelta(days=1),
        direction="outbound",
    )
    report = client.wait_for_report(client.create_report(req).request_id, poll_interval=0.2, timeout=120)
    assert report.request_status == "SUCCESS" and report.items_count
    return report.summary()


def warehouse_state(dsn: str) -> tuple[Any, ...]:
    with psycopg.connect(dsn) as conn:
        return (
            conn.execute("SELECT count(*) FROM cdr.sms").fetchone(),
            conn.execute("SELECT count(*) FROM cdr.load_ledger").fetchone(),
            conn.execute("SELECT count(*) FROM cdr.quarantine").fetchone(),
            conn.execute("SELECT count(*) FROM cdr.freshness").fetchone(),
        )


def run(wrapped: Any, dsn: str, report: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    return load_report_partition(
        wrapped, dsn, report, lake=Lake(tmp_path / "lake"), work_dir=tmp_path / "work"
    )


@pytest.mark.parametrize("cut", sorted(CUTS))
def test_a_short_file_fails_the_partition_and_the_retry_fetches_it_again(
    client: ReportsClient, completed: dict[str, Any], migrated_warehouse: Any, tmp_path: Path, cut: str
) -> None:
    dsn = migrated_warehouse.dsn
    wrapped = Cutting(client, CUTS[cut])
    before = warehouse_state(dsn)
    with pytest.raises(IncompleteFile) as caught:
        run(wrapped, dsn, completed, tmp_path)
    message = str(caught.value)
    assert message.startswith(f"SMS_{completed['request_id']}.zip: the SMS report announced ")
    assert f"announced {completed['items_count']} rows (items_count) but " in message
    assert warehouse_state(dsn) == before  # nothing loaded, no ledger row, no freshness
    assert list((tmp_path / "lake").rglob("*.parquet")) == []  # the bad file is not in the lake
    assert list((tmp_path / "work").rglob("*")) == []  # nor left in the work directory

    retried = run(wrapped, dsn, completed, tmp_path)  # Airflow's retry: the file is downloaded again
    assert wrapped.downloads == 2
    assert retried["rows_read"] == completed["items_count"] == retried["cdrs_billed"]
    with psycopg.connect(dsn) as conn:
        ledger = conn.execute("SELECT rows_expected, rows_read FROM cdr.load_ledger").fetchall()
    assert ledger == [(completed["items_count"], completed["items_count"])]
    assert Lake(tmp_path / "lake").locate(retried["parquet_path"]).is_file()


def test_a_legitimately_empty_day_loads_as_empty(
    client: ReportsClient, completed: dict[str, Any], migrated_warehouse: Any, tmp_path: Path
) -> None:
    wrapped = Cutting(client, keep_lines(lambda lines: lines[:1]))  # Vonage's file: the header only
    wrapped.report_override = lambda report: replace(report, items_count=0)
    result = run(wrapped, migrated_warehouse.dsn, completed, tmp_path)
    assert (result["rows_read"], result["rows_inserted"], result["cdrs_billed"]) == (0, 0, 0)
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        assert conn.execute("SELECT rows_expected, rows_read FROM cdr.load_ledger").fetchall() == [(0, 0)]


def test_a_truncated_report_is_not_loaded_as_a_complete_day(
    client: ReportsClient, completed: dict[str, Any], migrated_warehouse: Any, tmp_path: Path
) -> None:
    wrapped = Cutting(client, lambda data: data, times=0)
    wrapped.report_override = lambda report: replace(report, request_status="TRUNCATED")
    before = warehouse_state(migrated_warehouse.dsn)
    with pytest.raises(ReportTruncated, match=r"is TRUNCATED .* split the window"):
        run(wrapped, migrated_warehouse.dsn, completed, tmp_path)
    assert warehouse_state(migrated_warehouse.dsn) == before


@file_ages
def test_temporary_files_of_a_killed_attempt_are_removed_by_the_next_one(
    client: ReportsClient, completed: dict[str, Any], migrated_warehouse: Any, tmp_path: Path
) -> None:
    lake = Lake(tmp_path / "lake")
    target = lake.partition_file("SMS", DAY.date(), completed["account_id"], "outbound")
    work = tmp_path / "work" / f"sms-{completed['account_id']}-outbound-{DAY.date().isoformat()}"
    work.mkdir(parents=True)
    day_dir = Path(target.parent.path)  # a local lake
    day_dir.mkdir(parents=True)
    # what kill -9 leaves: a half download, a half normalized file and its spooled CSV, a half lake swap
    stale = [
        work / f".SMS_{completed['request_id']}.zip.0123abcd.part",
        work / f".{target.name}.0123abcd4567.tmp",
        work / f".{target.name}.0123abcd4567.csv.tmp",
        day_dir / f".{target.name}.89abcdef0123.tmp",
        day_dir / f"._quarantine-{target.stem}.jsonl.89abcdef0123.tmp",
    ]
    an_hour_ago = time.time() - 3600
    for path in stale:
        path.write_bytes(b"half")
        os.utime(path, (an_hour_ago, an_hour_ago))
    live = day_dir / f".{target.name}.live00000000.tmp"  # another, live writer's file: newer than us
    live.write_bytes(b"live")
    in_an_hour = time.time() + 3600
    os.utime(live, (in_an_hour, in_an_hour))
    other = day_dir / ".other-all.parquet.0123abcd4567.tmp"  # another partition's: not ours to judge
    other.write_bytes(b"x")
    os.utime(other, (an_hour_ago, an_hour_ago))

    run(client, migrated_warehouse.dsn, completed, tmp_path)

    assert [p for p in stale if p.exists()] == []
    assert live.exists() and other.exists()
    assert sorted(p.name for p in day_dir.iterdir()) == sorted([target.name, live.name, other.name])

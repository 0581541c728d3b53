"""How rows go in (insert, compare, merge) never changes what is stored or counted; a reload writes nothing.

The strategies are chosen for speed (docs/performance.md); these tests pin down that each one ends in the
same warehouse and the same exact counts, and that a wrong guess falls back to the general merge.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from include.vonage_cdr.normalize import NormalizeResult, normalize_csv_stream
from include.vonage_cdr.warehouse import load as load_module
from include.vonage_cdr.warehouse.load import LoadResult, load_normalized, load_while_normalizing
from tests.warehouse.test_load import HEADER, SMS, fetch, quoted_csv, request, row, sms_row

Loader = Callable[..., tuple[NormalizeResult, LoadResult]]


@pytest.fixture
def stream_csv(tmp_path: Path, migrated_warehouse: Any) -> Loader:
    """Normalize and load a CSV at once (load_while_normalizing), as the daily DAG does."""
    counter = iter(range(1000))

    def run(data: bytes, **overrides: Any) -> tuple[NormalizeResult, LoadResult]:
        out = tmp_path / f"s{next(counter)}.parquet"
        req = request(**overrides)
        return load_while_normalizing(
            migrated_warehouse.dsn,
            req,
            lambda sink: normalize_csv_stream(
                io.BytesIO(data), SMS, out, source_name="report.csv", on_batch=sink
            ),
        )

    return run


@pytest.fixture
def file_csv(tmp_path: Path, migrated_warehouse: Any) -> Loader:
    """Normalize a CSV to a file, then load the file (load_normalized), as the incremental DAG does."""
    counter = iter(range(1000))

    def run(data: bytes, **overrides: Any) -> tuple[NormalizeResult, LoadResult]:
        out = tmp_path / f"f{next(counter)}.parquet"
        normalized = normalize_csv_stream(io.BytesIO(data), SMS, out, source_name="report.csv")
        return normalized, load_normalized(migrated_warehouse.dsn, request(**overrides), normalized)

    return run


def physical(dsn: str) -> dict[str, tuple[str, str, str]]:
    """Where and by which transaction each row version lives, and whether anything locked it since."""
    rows = fetch(dsn, "SELECT id, ctid::text AS ctid, xmin::text AS xmin, xmax::text AS xmax FROM cdr.sms")
    return {r["id"]: (r["ctid"], r["xmin"], r["xmax"]) for r in rows}


def test_a_first_load_goes_straight_in_and_an_unchanged_reload_neither_locks_nor_rewrites(
    stream_csv: Loader, migrated_warehouse: Any
) -> None:
    dsn = migrated_warehouse.dsn
    data = quoted_csv(HEADER, [row(i) for i in range(1, 41)])
    _, first = stream_csv(data)
    assert first.strategy == "insert"
    assert (first.rows_inserted, first.rows_updated, first.rows_unchanged) == (40, 0, 0)
    before = physical(dsn)
    values = fetch(dsn, "SELECT * FROM cdr.sms ORDER BY id")

    _, again = stream_csv(data)
    assert again.strategy == "compare"
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, 40)
    after = physical(dsn)
    assert after == before  # same row versions, and xmax still 0: not even locked
    assert all(xmax == "0" for _, _, xmax in after.values())
    assert fetch(dsn, "SELECT * FROM cdr.sms ORDER BY id") == values


def test_streamed_and_file_loads_store_the_same_rows_and_fingerprints(
    stream_csv: Loader, file_csv: Loader, migrated_warehouse: Any
) -> None:
    data = quoted_csv(HEADER, [row(i, status="submitted") for i in range(1, 31)])
    normalized, _ = stream_csv(data)
    assert normalized.parquet_path.exists() and normalized.rows_ok == 30
    _, reloaded = file_csv(data)  # the file path finds every fingerprint equal
    assert (reloaded.rows_inserted, reloaded.rows_updated, reloaded.rows_unchanged) == (0, 0, 30)
    changed = [row(i, status="delivered" if i == 7 else "submitted") for i in range(1, 31)]
    _, update = file_csv(quoted_csv(HEADER, changed))
    assert (update.rows_inserted, update.rows_updated, update.rows_unchanged) == (0, 1, 29)
    _, back = stream_csv(data)
    assert (back.rows_inserted, back.rows_updated, back.rows_unchanged) == (0, 1, 29)
    got = fetch(migrated_warehouse.dsn, "SELECT count(*) AS n, count(_row_hash) AS hashed FROM cdr.sms")
    assert got == [{"n": 30, "hashed": 30}]


@pytest.mark.parametrize("stored_time", ["2026-11-20T09:00:00Z", "2026-11-20T10:00:02+00:00"])
def test_a_guess_of_new_rows_that_meets_a_stored_record_falls_back_to_the_merge(
    stream_csv: Loader, migrated_warehouse: Any, monkeypatch: pytest.MonkeyPatch, stored_time: str
) -> None:
    """The guess looks at a sample only; a stored record outside it is found by the checks (moved) or by the
    primary key (same event time), and the file is merged instead, with the same exact counts."""
    dsn = migrated_warehouse.dsn
    stream_csv(quoted_csv(HEADER, [sms_row("m2", stored_time, "submitted")]))
    monkeypatch.setattr(load_module, "PREDICT_SAMPLE", 1)  # the sample is m1 alone: not stored
    rows = [sms_row("m1", "2026-11-20T10:00:01+00:00"), sms_row("m2", "2026-11-20T10:00:02+00:00")]
    _, loaded = stream_csv(quoted_csv(HEADER, rows))
    assert loaded.strategy == "merge"
    assert (loaded.rows_inserted, loaded.rows_updated, loaded.rows_unchanged) == (1, 1, 0)
    assert loaded.rows_moved == (1 if stored_time.startswith("2026-11-20T09") else 0)
    got = fetch(dsn, "SELECT id, status, event_time FROM cdr.sms ORDER BY id")
    assert [(r["id"], r["status"]) for r in got] == [("m1", "delivered"), ("m2", "delivered")]
    assert got[1]["event_time"] == datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC)


def test_a_reload_that_repeats_an_id_is_merged_with_its_last_occurrence(
    stream_csv: Loader, migrated_warehouse: Any
) -> None:
    stream_csv(quoted_csv(HEADER, [sms_row("m1", "2026-11-20T10:00:00Z", "submitted"), row(2)]))
    rows = [
        sms_row("m1", "2026-11-20T10:00:00Z", "submitted"),
        row(2),
        sms_row("m1", "2026-11-20T10:00:00Z", "delivered"),
    ]
    _, loaded = stream_csv(quoted_csv(HEADER, rows))
    assert loaded.strategy == "merge"
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rows_duplicate) == (3, 2, 1)
    assert (loaded.rows_inserted, loaded.rows_updated, loaded.rows_unchanged) == (0, 1, 1)
    got = fetch(migrated_warehouse.dsn, "SELECT id, status FROM cdr.sms ORDER BY id")
    assert got == [{"id": "m1", "status": "delivered"}, {"id": "m2", "status": "delivered"}]


def test_rows_without_a_fingerprint_are_compared_in_full_and_get_one_once(
    file_csv: Loader, migrated_warehouse: Any
) -> None:
    """Rows stored before fingerprints existed: the next reload compares them column by column, counts them
    unchanged, and stores their fingerprint (one rewrite); the reload after that writes nothing."""
    dsn = migrated_warehouse.dsn
    data = quoted_csv(HEADER, [row(i) for i in range(1, 11)])
    file_csv(data)
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE cdr.sms SET _row_hash = NULL")
    meta = fetch(dsn, "SELECT id, _load_id, _last_changed_at FROM cdr.sms ORDER BY id")

    _, second = file_csv(data)
    assert (second.rows_inserted, second.rows_updated, second.rows_unchanged) == (0, 0, 10)
    assert fetch(dsn, "SELECT id, _load_id, _last_changed_at FROM cdr.sms ORDER BY id") == meta
    assert fetch(dsn, "SELECT count(_row_hash) AS n FROM cdr.sms") == [{"n": 10}]
    settled = physical(dsn)
    _, third = file_csv(data)
    assert (third.rows_updated, third.rows_unchanged) == (0, 10)
    assert physical(dsn) == settled


def test_rows_outside_the_window_get_their_month_and_land(
    stream_csv: Loader, migrated_warehouse: Any
) -> None:
    """A streamed load covers its window's months; a row two months later rolls it back, its partition is
    created and the finished file is loaded again, in one committed load."""
    rows = [row(1), sms_row("late", "2027-01-15T10:00:00Z")]
    _, loaded = stream_csv(quoted_csv(HEADER, rows))
    assert loaded.rows_inserted == 2
    got = fetch(
        migrated_warehouse.dsn, "SELECT id, tableoid::regclass::text AS part FROM cdr.sms ORDER BY id"
    )
    assert got == [{"id": "late", "part": "cdr.sms_p202701"}, {"id": "m1", "part": "cdr.sms_p202611"}]
    assert fetch(migrated_warehouse.dsn, "SELECT count(*) AS n FROM cdr.load_ledger") == [{"n": 1}]


def test_a_normalizer_that_fails_midway_leaves_nothing_behind(
    tmp_path: Path, migrated_warehouse: Any
) -> None:
    dsn = migrated_warehouse.dsn
    data = quoted_csv(HEADER, [row(i) for i in range(1, 6)])

    def failing(sink: Callable[[pa.RecordBatch], None]) -> NormalizeResult:
        normalize_csv_stream(
            io.BytesIO(data), SMS, tmp_path / "x.parquet", source_name="r.csv", on_batch=sink
        )
        raise OSError("disk full while finishing the file")

    with pytest.raises(OSError, match="disk full"):
        load_while_normalizing(dsn, request(), failing)
    for table in ("cdr.sms", "cdr.load_ledger", "cdr.quarantine"):
        assert fetch(dsn, f"SELECT count(*) AS n FROM {table}") == [{"n": 0}]


def test_a_short_streamed_file_is_refused_and_nothing_is_committed(
    stream_csv: Loader, migrated_warehouse: Any
) -> None:
    from include.vonage_cdr.normalize.errors import IncompleteFile

    with pytest.raises(IncompleteFile, match="announced 3 rows"):
        stream_csv(quoted_csv(HEADER, [row(1), row(2)]), rows_expected=3)
    for table in ("cdr.sms", "cdr.load_ledger"):
        assert fetch(migrated_warehouse.dsn, f"SELECT count(*) AS n FROM {table}") == [{"n": 0}]


def test_a_load_waits_for_another_loads_merge_longer_than_the_lock_timeout(
    tmp_path: Path, migrated_warehouse: Any
) -> None:
    """A daily merge may hold the table's merge lock for minutes; an incremental load queued behind it must
    wait its turn, not fail after the session's lock_timeout (kept for stuck table locks, and restored)."""
    import threading
    import time

    from psycopg.conninfo import make_conninfo

    dsn = migrated_warehouse.dsn
    impatient = make_conninfo(dsn, options="-c lock_timeout=200", application_name="cdr-queued-load")
    data = quoted_csv(HEADER, [row(i) for i in range(1, 21)])
    normalized = normalize_csv_stream(io.BytesIO(data), SMS, tmp_path / "q.parquet", source_name="q.csv")
    outcome: dict[str, Any] = {}

    def queued_load() -> None:
        def after_merge(conn: psycopg.Connection, _load_id: int) -> None:
            outcome["lock_timeout"] = conn.execute("SHOW lock_timeout").fetchone()[0]

        try:
            outcome["load"] = load_normalized(impatient, request(), normalized, extra_sql_in_txn=after_merge)
        except Exception as exc:  # reported below
            outcome["error"] = exc

    with (
        psycopg.connect(dsn) as holder,  # another load, inside its merge
        psycopg.connect(dsn, autocommit=True) as watcher,  # a fresh view of pg_stat_activity each time
    ):
        holder.execute("SELECT pg_advisory_xact_lock(hashtext('cdr.load_merge'), hashtext('sms'))")
        worker = threading.Thread(target=queued_load)
        worker.start()
        waiting = []
        for _ in range(600):  # until the queued load waits on the advisory lock (no fixed sleep for it)
            waiting = watcher.execute(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'cdr-queued-load' "
                "AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
            ).fetchall()
            if waiting or not worker.is_alive():
                break
            time.sleep(0.1)
        assert waiting, outcome.get("error")
        time.sleep(1.0)  # five times its lock_timeout: with that bound it would have failed by now
        holder.commit()
    worker.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["load"].rows_inserted == 20
    assert outcome["lock_timeout"] == "200ms"  # every other lock is bounded again

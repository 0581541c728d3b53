"""Beyond one machine: the daily DAG on two Celery workers, the lake on an S3-compatible server.

Real parts only: the scheduler, API server, DAG processor and triggerer of Airflow, two Celery workers with a
Redis broker (Debian's ``redis-server``), Airflow's metadata and Celery's results in the test's throwaway
PostgreSQL, the warehouse in another database of it, the Reports API simulator over HTTP and moto's S3 server.
The workers share nothing but what a real deployment shares (the broker, the databases, the bucket): each has
its own local work directory, so a task that relied on a file another task left on its machine would fail.

Outcome checked: tasks ran on both workers; the warehouse equals the simulator's ground truth; the lake holds
one Parquet object per partition under ``s3://<bucket>/lake/...``, the XCom of every load names it by URL, and
the rows in the lake are the rows in the warehouse; no XCom a task hands on names a local file, and nothing
is left in the workers' work directories.

Several minutes on a 2-core machine: marked ``slow`` (CI runs it; ``make test`` by default does not).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from include.simulator import Simulator
from include.vonage_cdr.lake import Lake
from include.vonage_cdr.planning import directions_for
from tests.dags.celery_cluster import CeleryCluster, metadata_database, wait_for
from tests.dags.pipeline_harness import iter_products
from tests.dags.test_daily_e2e import _assert_warehouse_equals_truth

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3000)]

DAG_ID = "vonage_cdr_daily"
PRODUCTS = "SMS,VOICE-CALL"  # three report partitions: SMS inbound, SMS outbound, VOICE-CALL
DAY = date(2026, 11, 15)  # the simulator's clock starts 2026-11-20T06:00Z: a settled day
LAKE_CONN_ID = "cdr_lake"


def _strings(value: Any) -> Iterator[str]:
    """Every string inside an XCom value (dicts, lists, nested)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def test_the_daily_dag_on_two_celery_workers_with_the_lake_on_object_storage(
    simulator: Simulator,
    pg_admin_dsn: str,
    pg_dsn: str,
    warehouse_roles: Any,
    s3_server: Any,
    s3_bucket: str,
) -> None:
    started = time.monotonic()
    lake_url = f"s3://{s3_bucket}/lake"
    settings = {
        f"AIRFLOW_CONN_{LAKE_CONN_ID.upper()}": s3_server.connection_json(),
        "CDR_PRODUCTS": PRODUCTS,
        "CDR_LAKE_ROOT": lake_url,
        "CDR_LAKE_CONN_ID": LAKE_CONN_ID,
        "CDR_REPORT_POLL_SECONDS": "1",
        "CDR_REPORT_INITIAL_DELAY_SECONDS": "1",
        "CDR_SETTLEMENT_DELAY_HOURS": "0",
        "CDR_TASK_RETRIES": "2",
        "CDR_RETRY_DELAY_SECONDS": "2",
        "CDR_LOADER_ROLE": warehouse_roles.loader,
        "CDR_ANALYST_ROLE": warehouse_roles.analyst,
        "CDR_API_POOL_SLOTS": "4",
    }
    state = Path(tempfile.mkdtemp(prefix="cdr-celery-"))
    state.chmod(0o755)
    with metadata_database(pg_admin_dsn) as metadata:
        cluster = CeleryCluster(
            state=state,
            metadata_conninfo=metadata,
            sim_base_url=simulator.base_url,
            warehouse_dsn=pg_dsn,
            settings=settings,
        )
        try:
            cluster.start()
            wait_for(lambda: cluster.dag_parsed(DAG_ID), 900, f"{DAG_ID} parsed")
            cluster.airflow("dags", "unpause", DAG_ID)
            run_id = f"celery__{DAY.isoformat()}"
            logical = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC).isoformat()
            cluster.airflow(
                "dags", "trigger", DAG_ID, "--run-id", run_id, "--logical-date", logical,
                "--conf", f'{{"day": "{DAY.isoformat()}"}}',
            )  # fmt: skip
            run_started = time.monotonic()
            state_now = wait_for(
                lambda: (
                    cluster.run_state(DAG_ID, run_id) in ("success", "failed")
                    and cluster.run_state(DAG_ID, run_id)
                ),
                1800,
                f"{DAG_ID} run {run_id} to finish",
                interval=3.0,
            )
            run_seconds = time.monotonic() - run_started
            tis = cluster.task_instances(DAG_ID, run_id)
            assert state_now == "success", f"run ended {state_now}: {tis}\n{cluster.log_tails()}"
            loads = cluster.xcom_values(DAG_ID, run_id, "load_partition")
            # what tasks hand to each other (the usage report's own output path is a final product, not read
            # by another task: it is written on the worker that renders it, see docs/scaling.md)
            handed_on = [
                value
                for task in ("plan", "prepare_warehouse", "request_report", "load_partition")
                for value in cluster.xcom_values(DAG_ID, run_id, task)
            ]
        finally:
            cluster.close()
    shutil.rmtree(state, ignore_errors=True)  # kept when the run failed: its logs/ tell why

    # 1. Tasks ran on both workers, and only there (the hostname each worker's tasks recorded).
    assert all(ti["state"] == "success" for ti in tis), tis
    hosts = {ti["hostname"] for ti in tis}
    assert hosts == set(cluster.workers), tis
    per_worker = {
        w: sorted(f"{t['task_id']}[{t['map_index']}]" for t in tis if t["hostname"] == w) for w in hosts
    }
    assert all(per_worker.values()), per_worker

    # 2. The warehouse equals the ground truth (same comparison as the single-process end-to-end test).
    compared = _assert_warehouse_equals_truth(simulator, pg_dsn, DAY, PRODUCTS)
    assert compared > 0

    # 3. The lake: one object per partition on the S3 server, named in XCom by URL, holding the loaded rows.
    lake = Lake(lake_url, s3=s3_server.options())
    expected = {
        lake.partition_file(p.name, DAY, simulator.api_key, d).url
        for p in iter_products(PRODUCTS)
        for d in directions_for(p)
    }
    assert {load["parquet_path"] for load in loads} == expected
    listed = {f.url for p in iter_products(PRODUCTS) for f in lake.files(p.name, DAY)}
    assert listed == expected
    lake_rows = sum(
        pq.ParquetFile(f.open_input_file()).metadata.num_rows
        for p in iter_products(PRODUCTS)
        for f in lake.files(p.name, DAY)
    )
    assert (
        lake_rows == sum(int(load["rows_read"]) - int(load["rows_quarantined"]) for load in loads) == compared
    )
    assert lake.stale_temp_files() == []
    # 4. Scratch stayed local and temporary: no XCom a task hands on names a local file; the work directories
    # are empty again.
    local = [text for text in _strings(handed_on) if text.startswith(("/", "file:"))]
    assert local == [], local
    for worker in cluster.workers:
        assert [p for p in cluster.work_dir(worker).rglob("*") if p.is_file()] == [], worker

    timings = cluster.timings
    print(
        f"\ncelery+S3: start {timings['start_seconds']:.0f} s (migrate {timings['migrate_seconds']:.0f} s), "
        f"run {run_seconds:.0f} s, total {time.monotonic() - started:.0f} s; tasks per worker: "
        + ", ".join(f"{w}: {len(t)}" for w, t in sorted(per_worker.items()))
    )

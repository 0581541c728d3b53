"""Vonage CDRs, incremental: the newest records every few minutes through the sync records endpoint.

Per partition (product, direction, account) a run reads from the stored watermark minus a short
overlap up to now minus a safety margin on Vonage's clock, in windows of at most 24 hours, and
follows every page. Data and watermark commit together. The daily DAG re-reads whole settled days,
so late status and price changes converge there. Runs never overlap (``max_active_runs=1``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, get_current_context, task

from include.vonage_cdr.settings import Settings

SETTINGS = Settings.from_env()


@dag(
    dag_id="vonage_cdr_incremental",
    schedule=SETTINGS.sync_interval,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=max(SETTINGS.sync_interval * 6, timedelta(minutes=30)),
    default_args={
        "owner": "cdr-platform",
        "retries": SETTINGS.task_retries,
        "retry_delay": SETTINGS.retry_delay,
        "execution_timeout": SETTINGS.sync_task_execution_timeout,
    },
    tags=["vonage", "cdr", "incremental"],
    doc_md=__doc__,
)
def vonage_cdr_incremental() -> None:
    @task
    def plan() -> list[dict]:
        from vonage_reports.pipeline_tasks import plan_incremental

        return plan_incremental(SETTINGS)

    @task
    def prepare_warehouse() -> list[str]:
        from vonage_reports.pipeline_tasks import prepare_warehouse as prepare

        return prepare(SETTINGS)

    @task(pool=SETTINGS.api_pool)
    def sync_partition(part: dict) -> dict:
        from vonage_reports.pipeline_tasks import sync_partition as run

        return run(part, get_current_context(), SETTINGS)

    partitions = plan()
    prepare_warehouse() >> partitions
    sync_partition.expand(part=partitions)


vonage_cdr_incremental()

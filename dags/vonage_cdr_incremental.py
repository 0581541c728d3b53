"""Vonage CDRs, incremental: the newest records every few minutes through the sync records endpoint.

Per partition (product, direction, account) a run reads from the stored watermark minus a short
overlap up to now minus a safety margin on Vonage's clock, in windows of at most 24 hours, and
follows every page. Data and watermark commit together. The daily DAG re-reads whole settled days,
so late status and price changes converge there. Runs never overlap (``max_active_runs=1``).

Each ``publish_<table>`` task emits an event on the same table Asset as the daily DAG, with extra
``mode: "sync"``, ``product``, the row counts, ``load_ids`` and ``synced_until``; a run that brought
no new or changed row emits none (the task is skipped), so Asset-scheduled DAGs run on changes only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, dag, get_current_context, task

from include.vonage_cdr.products import get_product
from include.vonage_cdr.settings import Settings
from vonage_reports.assets import product_asset

SETTINGS = Settings.from_env()

# Mapped task instances are named after their partition: "SMS outbound abcd1234".
SYNC_LABEL = (
    "{% set p = task.op_kwargs['part'] %}"
    "{{ [p['product'], p['direction'], p['account_id']] | select | join(' ') }}"
)


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

    @task(pool=SETTINGS.api_pool, map_index_template=SYNC_LABEL)
    def sync_partition(part: dict) -> dict:
        from vonage_reports.pipeline_tasks import sync_partition as run

        return run(part, get_current_context(), SETTINGS)

    partitions = plan()
    prepare_warehouse() >> partitions
    synced = sync_partition.expand(part=partitions)

    for product in SETTINGS.sync_products:
        asset = product_asset(product)

        @task(task_id=f"publish_{get_product(product).table}", outlets=[asset])
        def publish(results: list[dict], product: str = product, asset: Asset = asset) -> dict:
            """Put the product's synced rows on the table's Asset event; no event when nothing changed."""
            from airflow.sdk.exceptions import AirflowSkipException

            from vonage_reports.pipeline_tasks import summarize_product

            summary = summarize_product(product, results[:], mode="sync")
            if not summary["rows_inserted"] and not summary["rows_updated"]:
                raise AirflowSkipException(f"no new or changed {product} rows: no Asset event")
            get_current_context()["outlet_events"][asset].extra = summary
            return summary

        publish(synced)


vonage_cdr_incremental()

"""Vonage CDRs, daily: async report per product, direction and account -> Parquet lake -> PostgreSQL.

Each run covers one UTC day (see "Which day" below) and waits, deferred, for the settlement delay after
that day ends before it asks for the reports. Re-running a day gives the same warehouse: rows merge on
their record id, the lake file of the partition is replaced, and every load writes one ledger row in
the data's transaction. Each ``publish_<table>`` task emits an event on the table's Asset whose extra
holds ``mode``, ``day``, ``days``, ``product``, the row counts and the ``load_ids`` of the ledger rows.

Backfill: ``airflow backfill create --dag-id vonage_cdr_daily --from-date A --to-date B
--reprocess-behavior failed`` loads the days A..B and re-runs those whose last run failed (without
the flag a failed day is skipped). The ``vonage_reports_api`` pool, which counts deferred tasks,
bounds how many reports are in flight at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk import Asset, CronDataIntervalTimetable, Param, dag, get_current_context, task

from include.vonage_cdr.planning import DAY_RULE
from include.vonage_cdr.products import get_product
from include.vonage_cdr.settings import Settings
from vonage_reports.assets import product_asset
from vonage_reports.operators import VonageAsyncReportOperator
from vonage_reports.waits import WaitUntilOperator

SETTINGS = Settings.from_env()

# Mapped task instances are named after their partition: "SMS outbound abcd1234 2026-11-28".
REPORT_LABEL = (
    "{{ [task.product, task.direction, task.account_id, task.date_start[:10]] | select | join(' ') }}"
)
LOAD_LABEL = (
    "{% set r = task.op_kwargs['report'] %}"
    "{{ [r['product'], r['direction'], r['account_id'], r['date_start'][:10]] | select | join(' ') }}"
)


@dag(
    dag_id="vonage_cdr_daily",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=4,
    default_args={
        "owner": "cdr-platform",
        "retries": SETTINGS.task_retries,
        "retry_delay": SETTINGS.retry_delay,
        "retry_exponential_backoff": True,
        # time on a worker per try (a deferred report's wait is bounded by its own deadline)
        "execution_timeout": SETTINGS.task_execution_timeout,
    },
    params={"day": Param(None, type=["null", "string"], format="date", description=DAY_RULE)},
    tags=["vonage", "cdr", "daily"],
    doc_md=f"{__doc__}\n**Which day.** {DAY_RULE}\n",
)
def vonage_cdr_daily() -> None:
    @task
    def plan() -> list[dict]:
        from vonage_reports.pipeline_tasks import plan_daily

        return plan_daily(get_current_context(), SETTINGS)

    @task
    def prepare_warehouse(partitions: list[dict]) -> str:
        """Migrate, create month partitions; returns when the newest day has settled (ISO instant)."""
        from vonage_reports.pipeline_tasks import prepare_daily

        return prepare_daily(partitions, SETTINGS)

    @task(pool=SETTINGS.api_pool, max_active_tis_per_dagrun=8, map_index_template=LOAD_LABEL)
    def load_partition(report: dict) -> dict:
        from vonage_reports.pipeline_tasks import load_partition as load

        return load(report, get_current_context(), SETTINGS)

    planned = plan()
    not_before = prepare_warehouse(planned)
    settled = WaitUntilOperator(task_id="wait_for_settlement", target_time=not_before)
    reports = VonageAsyncReportOperator.partial(
        task_id="request_report",
        vonage_conn_id=SETTINGS.vonage_conn_id,
        pool=SETTINGS.api_pool,
        poll_interval=SETTINGS.report_poll_interval.total_seconds(),
        initial_delay=SETTINGS.report_initial_delay.total_seconds(),
        deadline=SETTINGS.report_deadline.total_seconds(),
        report_registry_conn_id=SETTINGS.warehouse_conn_id,
        map_index_template=REPORT_LABEL,
    ).expand_kwargs(planned)
    settled >> reports
    loaded = load_partition.expand(report=reports.output)

    for product in SETTINGS.products:
        asset = product_asset(product)

        @task(task_id=f"publish_{get_product(product).table}", outlets=[asset])
        def publish(results: list[dict], product: str = product, asset: Asset = asset) -> dict:
            """Roll the product's loads up and put them on the table's Asset event."""
            from vonage_reports.pipeline_tasks import summarize_product

            # A slice is one XCom read; iterating the lazy sequence probes past its end (an error line).
            summary = summarize_product(product, results[:], mode="daily")
            get_current_context()["outlet_events"][asset].extra = summary
            return summary

        publish(loaded)

    # The usage and cost report (HTML, CDR_REPORT_DIR), once every load of the run has committed.
    @task(task_id="render_usage_report")
    def render_usage_report() -> str:
        from vonage_reports.report_task import render_usage_report as render

        return render(SETTINGS)

    loaded >> render_usage_report()


vonage_cdr_daily()

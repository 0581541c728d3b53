"""Bodies of the pipeline's Airflow tasks: read the Airflow context and connections, call the library.

DAG files import this module lazily, inside task functions, so parsing a DAG stays cheap. Nothing
here holds domain logic: that lives in ``include.vonage_cdr`` and is tested without a scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from include.vonage_cdr.settings import Settings


def _airflow_meta(context: Mapping[str, Any]) -> dict[str, Any]:
    ti = context["ti"]
    return {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "try_number": ti.try_number,
    }


_LIBPQ_OPTIONS = {
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "connect_timeout",
    "options",
    "target_session_attrs",
}


def warehouse_dsn(conn_id: str) -> str:
    """A psycopg conninfo for the warehouse connection (a postgres-type Airflow connection).

    Built from the connection's fields: ``PostgresHook.get_uri()`` gives a SQLAlchemy URL
    (``postgresql+psycopg://``) that libpq does not accept. Extras become libpq options (sslmode ...).
    """
    from airflow.sdk import BaseHook
    from psycopg.conninfo import make_conninfo

    conn = BaseHook.get_connection(conn_id)
    params: dict[str, Any] = {
        "host": conn.host or "localhost",
        "port": conn.port or 5432,
        "user": conn.login,
        "password": conn.password,
        "dbname": conn.schema or "postgres",
        "application_name": "vonage-cdr-pipeline",
    }
    params.update({k: v for k, v in (conn.extra_dejson or {}).items() if k in _LIBPQ_OPTIONS})
    return make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})


def configured_accounts(settings: Settings) -> tuple[str, ...]:
    """CDR_ACCOUNTS, or the Vonage connection's account (its extra ``account_id``, else its login)."""
    if settings.accounts:
        return settings.accounts
    from vonage_reports.hooks import VonageReportsHook

    return (VonageReportsHook(vonage_conn_id=settings.vonage_conn_id).account_id,)


def plan_daily(context: Mapping[str, Any], settings: Settings) -> list[dict[str, Any]]:
    """Decide the days and partitions of this run; refuse days beyond retention."""
    from airflow.sdk.exceptions import AirflowFailException

    from include.vonage_cdr.planning import RetentionExceeded, check_retention, plan_partitions, resolve_days

    params = context.get("params") or {}
    dag_run = context["dag_run"]
    run_type = str(getattr(dag_run, "run_type", "") or "")
    days = resolve_days(
        explicit_day=params.get("day"),
        logical_date=context.get("logical_date"),
        run_after=getattr(dag_run, "run_after", None) or datetime.now(UTC),
        is_scheduled=run_type.endswith("scheduled"),
        settlement_delay=settings.settlement_delay,
        reload_lags_days=settings.reload_lags_days,
    )
    partitions = plan_partitions(
        days,
        settings.products,
        configured_accounts(settings),
        include_subaccounts=settings.include_subaccounts,
    )
    try:
        check_retention(partitions, datetime.now(UTC).date())
    except RetentionExceeded as exc:
        raise AirflowFailException(str(exc)) from exc
    return [p.to_report_kwargs() for p in partitions]


def prepare_daily(partitions: list[Mapping[str, Any]], settings: Settings) -> str:
    """Apply pending migrations; return when the newest planned day has settled (ISO instant)."""
    from datetime import date

    from include.vonage_cdr.planning import settlement_target

    prepare_warehouse(settings)
    newest = max(str(p["date_start"])[:10] for p in partitions)
    return settlement_target(date.fromisoformat(newest), settings.settlement_delay).isoformat()


def prepare_warehouse(settings: Settings) -> list[str]:
    """Apply pending migrations (month partitions are created by each load for its own rows)."""
    from include.vonage_cdr.warehouse.migrate import apply_migrations

    dsn = warehouse_dsn(settings.warehouse_conn_id)
    return apply_migrations(dsn, loader_role=settings.loader_role, analyst_role=settings.analyst_role)


def load_partition(
    report: Mapping[str, Any], context: Mapping[str, Any], settings: Settings
) -> dict[str, Any]:
    from include.vonage_cdr.daily_load import load_report_partition
    from include.vonage_cdr.lake import Lake
    from include.vonage_cdr.normalize.limits import ReadLimits
    from vonage_reports.hooks import VonageReportsHook

    client = VonageReportsHook(vonage_conn_id=settings.vonage_conn_id).get_client()
    try:
        return load_report_partition(
            client,
            warehouse_dsn(settings.warehouse_conn_id),
            report,
            lake=Lake(settings.lake_root),
            work_dir=settings.work_dir,
            airflow=_airflow_meta(context),
            limits=ReadLimits(
                settings.max_record_bytes, settings.max_decompressed_bytes, settings.max_compression_ratio
            ),
        )
    finally:
        client.close()


def summarize_product(product: str, results: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Roll the loads of one product up for the asset event and the run's log."""
    mine = [r for r in results if r and r.get("product") == product]
    keys = ("rows_read", "rows_inserted", "rows_updated", "rows_unchanged", "rows_quarantined", "cdrs_billed")
    summary: dict[str, Any] = {"product": product, "partitions": len(mine)}
    summary.update({k: sum(int(r.get(k) or 0) for r in mine) for k in keys})
    summary["days"] = sorted({str(r["day"]) for r in mine})
    return summary


def plan_incremental(settings: Settings) -> list[dict[str, Any]]:
    from include.vonage_cdr.incremental import plan_sync_partitions

    return [p.to_dict() for p in plan_sync_partitions(settings.sync_products, configured_accounts(settings))]


def sync_partition(part: Mapping[str, Any], context: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    from include.vonage_cdr.incremental import SyncPartition
    from include.vonage_cdr.incremental import sync_partition as run_sync
    from vonage_reports.hooks import VonageReportsHook

    client = VonageReportsHook(vonage_conn_id=settings.vonage_conn_id).get_client()
    try:
        now = client.server_time()
        return run_sync(
            client,
            warehouse_dsn(settings.warehouse_conn_id),
            SyncPartition(part["product"], part["account_id"], part.get("direction")),
            now=now,
            settings=settings,
            work_dir=settings.work_dir,
            airflow=_airflow_meta(context),
        )
    finally:
        client.close()

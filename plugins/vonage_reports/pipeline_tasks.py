"""Bodies of the pipeline's Airflow tasks: read the Airflow context and connections, call the library.

DAG files import this module lazily, inside task functions, so parsing a DAG stays cheap. Nothing
here holds domain logic: that lives in ``include.vonage_cdr`` and is tested without a scheduler.

Failure policy of the glue: a credential Vonage rejects fails the task at once (no retry can fix it),
naming the connection; a warehouse bound that is hit (lock, statement, idle, connect timeout) fails with a
message naming the CDR_DB_* setting and is retried like any transient error; a value that would reach a
file path is checked before any directory is created.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from include.vonage_cdr.settings import Settings, check_account_id, check_product

if TYPE_CHECKING:
    from include.vonage_cdr.client.client import ReportsClient
    from include.vonage_cdr.warehouse.connect import SessionBounds


def airflow_meta(context: Mapping[str, Any]) -> dict[str, Any]:
    """dag_id, run_id, task_id and try_number of the running task (empty outside a task)."""
    ti = context.get("ti")
    if ti is None:
        return {}
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
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "tcp_user_timeout",
}


def warehouse_session_bounds(settings: Settings | None = None) -> SessionBounds:
    return (settings or Settings.from_env()).warehouse_session_bounds()


def warehouse_dsn(conn_id: str, settings: Settings | None = None) -> str:
    """A bounded psycopg conninfo for a warehouse connection (a postgres-type Airflow connection).

    Built from the connection's fields: ``PostgresHook.get_uri()`` gives a SQLAlchemy URL
    (``postgresql+psycopg://``) that libpq does not accept. Extras become libpq options (sslmode ...).
    The CDR_DB_* session bounds (connect/statement/lock/idle timeouts, keepalives) are added, so every
    session opened with the result is bounded; a bound set in the connection's extras wins.
    """
    from airflow.sdk import BaseHook
    from psycopg.conninfo import make_conninfo

    from include.vonage_cdr.warehouse.connect import bounded_conninfo

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
    dsn = make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})
    return bounded_conninfo(dsn, warehouse_session_bounds(settings))


def configured_accounts(settings: Settings) -> tuple[str, ...]:
    """CDR_ACCOUNTS, or the Vonage connection's account (its extra ``account_id``, else its login)."""
    if settings.accounts:
        return settings.accounts
    from airflow.sdk.exceptions import AirflowFailException

    from vonage_reports.hooks import VonageReportsHook

    try:
        return (VonageReportsHook(vonage_conn_id=settings.vonage_conn_id).account_id,)
    except ValueError as exc:  # a connection without credentials or with an unusable account id
        raise AirflowFailException(str(exc)) from None


def vonage_today(settings: Settings) -> date:
    """Today's UTC date on Vonage's clock: retention is counted by Vonage, not by this worker's clock.

    Wrong credentials fail the run here, at once and without retries (naming the connection); any other
    failure to read Vonage's clock falls back to the local clock with a warning.
    """
    import logging

    from include.vonage_cdr.client import AuthenticationError, AuthorizationError, VonageError
    from vonage_reports.hooks import VonageReportsHook, fail_fast_on_credentials

    hook = VonageReportsHook(vonage_conn_id=settings.vonage_conn_id)
    with fail_fast_on_credentials(settings.vonage_conn_id):
        try:
            with hook.get_client() as client:
                return client.server_time(account_id=hook.account_id).astimezone(UTC).date()
        except (AuthenticationError, AuthorizationError):
            raise
        except VonageError as exc:
            logging.getLogger(__name__).warning(
                "Could not read Vonage's clock (%s); counting retention on the local clock",
                type(exc).__name__,
            )
            return datetime.now(UTC).date()


def plan_daily(context: Mapping[str, Any], settings: Settings) -> list[dict[str, Any]]:
    """Decide the days and partitions of this run; refuse days beyond retention."""
    from airflow.sdk.exceptions import AirflowFailException

    from include.vonage_cdr.planning import (
        DayNotEnded,
        RetentionExceeded,
        check_retention,
        plan_partitions,
        resolve_days,
    )

    params = context.get("params") or {}
    dag_run = context["dag_run"]
    run_type = str(getattr(dag_run, "run_type", "") or "")
    try:
        days = resolve_days(
            explicit_day=params.get("day"),
            logical_date=context.get("logical_date"),
            run_after=getattr(dag_run, "run_after", None) or datetime.now(UTC),
            is_scheduled=run_type.endswith("scheduled"),
            settlement_delay=settings.settlement_delay,
            reload_lags_days=settings.reload_lags_days,
        )
    except DayNotEnded as exc:
        raise AirflowFailException(str(exc)) from exc
    partitions = plan_partitions(
        days,
        settings.products,
        configured_accounts(settings),
        include_subaccounts=settings.include_subaccounts,
        include_message=settings.include_message,
        show_concatenated=settings.show_concatenated,
    )
    try:
        check_retention(partitions, vonage_today(settings))
    except RetentionExceeded as exc:
        raise AirflowFailException(str(exc)) from exc
    return [p.to_report_kwargs() for p in partitions]


def prepare_daily(partitions: list[Mapping[str, Any]], settings: Settings) -> str:
    """Apply pending migrations; return when the newest planned day has settled (ISO instant)."""
    from include.vonage_cdr.planning import settlement_target

    prepare_warehouse(settings)
    newest = max(str(p["date_start"])[:10] for p in partitions)
    return settlement_target(date.fromisoformat(newest), settings.settlement_delay).isoformat()


def _connection_exists(conn_id: str) -> bool:
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except Exception as exc:  # the SDK raises AirflowNotFoundException (its class moved between releases)
        if "NotFound" in type(exc).__name__ or "isn't defined" in str(exc):
            return False
        raise
    return True


def prepare_warehouse(settings: Settings) -> list[str]:
    """Apply pending migrations (month partitions are created by each load for its own rows).

    Who migrates: the connection named by CDR_WAREHOUSE_ADMIN_CONN_ID (default ``cdr_warehouse_admin``,
    a member of the owner role or a superuser) when it exists; without it the runtime connection is used,
    which, being a least-privilege loader, can only confirm that nothing is pending: a pending migration then
    fails the task at once (no retry) saying how to apply it (``make migrate`` as a deploy step, or the
    admin connection). Bounded like every warehouse session; waiting for a concurrent runner is bounded
    by the statement timeout.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from include.vonage_cdr.warehouse.connect import explained_timeouts
    from include.vonage_cdr.warehouse.migrate import MigrationError, apply_migrations

    admin = _connection_exists(settings.warehouse_admin_conn_id)
    conn_id = settings.warehouse_admin_conn_id if admin else settings.warehouse_conn_id
    bounds = settings.warehouse_session_bounds()
    try:
        with explained_timeouts(bounds):
            return apply_migrations(
                warehouse_dsn(conn_id, settings),
                loader_role=settings.loader_role,
                analyst_role=settings.analyst_role,
                owner_role=settings.owner_role,
                bounds=bounds,
            )
    except MigrationError as exc:
        raise AirflowFailException(f"warehouse migrations (connection {conn_id!r}): {exc}") from None


@contextlib.contextmanager
def _partition_task(
    partition: Mapping[str, Any], what: str, settings: Settings
) -> Iterator[tuple[ReportsClient, str]]:
    """What every task that loads a partition needs first: the partition's account and product checked (they
    end up in directory names: refused before anything is created), the warehouse URL, and a Vonage client
    inside the glue's failure policy (credentials fail fast, warehouse bounds explained)."""
    from airflow.sdk.exceptions import AirflowFailException

    from include.vonage_cdr.settings import SettingsError
    from include.vonage_cdr.warehouse.connect import explained_timeouts
    from vonage_reports.hooks import VonageReportsHook, fail_fast_on_credentials

    try:
        check_account_id(str(partition.get("account_id")), f"{what} account_id")
        check_product(str(partition.get("product")), f"{what} product")
    except SettingsError as exc:
        raise AirflowFailException(str(exc)) from None
    dsn = warehouse_dsn(settings.warehouse_conn_id, settings)
    with (
        fail_fast_on_credentials(settings.vonage_conn_id),
        explained_timeouts(settings.warehouse_session_bounds()),
        VonageReportsHook(vonage_conn_id=settings.vonage_conn_id).get_client() as client,
    ):
        yield client, dsn


def load_partition(
    report: Mapping[str, Any], context: Mapping[str, Any], settings: Settings
) -> dict[str, Any]:
    from include.vonage_cdr.daily_load import load_report_partition
    from include.vonage_cdr.normalize.limits import ReadLimits
    from vonage_reports.lake_storage import lake_for

    with _partition_task(report, "report", settings) as (client, dsn):
        return load_report_partition(
            client,
            dsn,
            report,
            lake=lake_for(settings),  # local directory or s3:// with CDR_LAKE_CONN_ID's credentials
            work_dir=settings.work_dir,
            airflow=airflow_meta(context),
            include_message=settings.include_message,
            show_concatenated=settings.show_concatenated,
            limits=ReadLimits(
                settings.max_record_bytes, settings.max_decompressed_bytes, settings.max_compression_ratio
            ),
        )


def summarize_product(
    product: str, results: list[Mapping[str, Any]], *, mode: str = "daily"
) -> dict[str, Any]:
    """Roll the loads of one product up for its Asset event's extra (vonage_reports/assets.py) and the log."""
    mine = [r for r in results if r and r.get("product") == product]
    keys = ("rows_read", "rows_inserted", "rows_updated", "rows_unchanged", "rows_quarantined", "cdrs_billed")
    summary: dict[str, Any] = {"mode": mode, "product": product, "partitions": len(mine)}
    summary.update({k: sum(int(r.get(k) or 0) for r in mine) for k in keys})
    summary["load_ids"] = sorted(
        {int(i) for r in mine for i in [r.get("load_id"), *(r.get("load_ids") or [])] if i is not None}
    )
    days = sorted({str(r["day"]) for r in mine if r.get("day")})
    if days:
        summary["days"] = days
        summary["day"] = days[-1]
    synced = [str(r["watermark_after"]) for r in mine if r.get("watermark_after")]
    if synced:
        summary["synced_until"] = max(synced, key=datetime.fromisoformat)
    return summary


def plan_incremental(settings: Settings) -> list[dict[str, Any]]:
    from include.vonage_cdr.incremental import plan_sync_partitions

    return [p.to_dict() for p in plan_sync_partitions(settings.sync_products, configured_accounts(settings))]


def sync_partition(part: Mapping[str, Any], context: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    from include.vonage_cdr.incremental import SyncPartition
    from include.vonage_cdr.incremental import sync_partition as run_sync

    with _partition_task(part, "partition", settings) as (client, dsn):
        # Vonage's clock from the Date header (an id lookup refines it when the server supports it)
        now = client.server_time(account_id=part["account_id"])
        return run_sync(
            client,
            dsn,
            SyncPartition(part["product"], part["account_id"], part.get("direction")),
            now=now,
            settings=settings,
            work_dir=settings.work_dir,
            airflow=airflow_meta(context),
        )

"""Pipeline settings, read from ``CDR_*`` environment variables.

Why environment variables: every Airflow component (scheduler, DAG processor, workers, triggerer)
gets the same environment from the deployment (docker-compose ``.env``, Helm values), DAG files can
read them at parse time without touching the metadata database, and tests can set them per case.
This module imports only the standard library because DAG files import it at top level.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from include.vonage_cdr.lake_url import parse_lake_root
from include.vonage_cdr.products import DEFAULT_PRODUCTS, PRODUCTS

if TYPE_CHECKING:
    from include.vonage_cdr.warehouse.connect import SessionBounds

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _bool(value: str) -> bool:
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


class SettingsError(ValueError):
    """A CDR_* setting has a value we cannot use; the message names the variable."""


# Values that end up in file paths (lake partitions, work directories) or in SQL identifiers and Airflow
# names are checked when they are read, before anything is created with them.
#: Vonage API keys and subaccount keys: letters and digits (hex in practice); "_" and "-" tolerated
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: PostgreSQL role names the migrations quote as identifiers
_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
#: Airflow connection ids and pool names
_AIRFLOW_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,249}$")


def check_account_id(value: str, source: str = "CDR_ACCOUNTS") -> str:
    """``value`` when it is a plain account id; else SettingsError naming ``source`` (before any path)."""
    if not isinstance(value, str) or not _ACCOUNT_ID.match(value):
        raise SettingsError(
            f"{source}: account id {value!r} is not a plain Vonage account id (letters, digits, '_' or '-', "
            "at most 64): it would be used in file paths"
        )
    return value


def check_product(value: str, source: str = "CDR_PRODUCTS") -> str:
    if value not in PRODUCTS:
        raise SettingsError(f"{source}: unknown product {value!r}; known: {', '.join(sorted(PRODUCTS))}")
    return value


def _check_name(pattern: re.Pattern[str], value: str, source: str, what: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise SettingsError(f"{source}: {value!r} is not a valid {what}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the two DAGs need to know that is not a secret (secrets live in connections)."""

    products: tuple[str, ...] = DEFAULT_PRODUCTS
    accounts: tuple[str, ...] = ()  # empty: the Vonage connection's account_id
    include_subaccounts: bool = False
    vonage_conn_id: str = "vonage_default"
    warehouse_conn_id: str = "cdr_warehouse"
    lake_root: str = str(PROJECT_ROOT / ".state" / "lake")  # a directory, file:///dir or s3://bucket/prefix
    lake_conn_id: str | None = None  # Airflow `aws` connection with the object store's credentials
    work_dir: Path = PROJECT_ROOT / ".state" / "work"
    api_pool: str = "vonage_reports_api"
    task_retries: int = 3
    retry_delay: timedelta = timedelta(minutes=2)
    warehouse_admin_conn_id: str = "cdr_warehouse_admin"  # used only to apply migrations, when it exists
    owner_role: str = "cdr_owner"
    loader_role: str = "cdr_loader"
    analyst_role: str = "cdr_analyst"
    # Bounded waits: warehouse sessions (include/vonage_cdr/warehouse/connect.py) and Airflow tasks
    db_connect_timeout: timedelta = timedelta(seconds=10)
    db_statement_timeout: timedelta = timedelta(minutes=30)
    db_lock_timeout: timedelta = timedelta(seconds=60)
    db_idle_in_transaction_timeout: timedelta = timedelta(minutes=5)
    db_keepalives_idle: timedelta = timedelta(seconds=30)
    db_keepalives_interval: timedelta = timedelta(seconds=10)
    db_keepalives_count: int = 3
    task_execution_timeout: timedelta = timedelta(hours=2)  # every daily task's time on a worker
    sync_task_execution_timeout: timedelta = timedelta(minutes=20)  # every incremental task's
    # Daily DAG
    settlement_delay: timedelta = timedelta(hours=2)
    reload_lags_days: tuple[int, ...] = (1,)
    report_poll_interval: timedelta = timedelta(seconds=30)
    report_initial_delay: timedelta = timedelta(seconds=10)
    report_deadline: timedelta = timedelta(hours=6)
    # Incremental DAG
    sync_products: tuple[str, ...] = DEFAULT_PRODUCTS
    sync_interval: timedelta = timedelta(minutes=5)
    sync_overlap: timedelta = timedelta(minutes=1)
    sync_safety_margin: timedelta = timedelta(minutes=2)
    sync_initial_lookback: timedelta = timedelta(hours=1)
    sync_max_catchup_per_run: timedelta = timedelta(hours=6)
    sync_max_window: timedelta = timedelta(hours=24)
    # Message bodies (personal data: off by default; stored in columns only the PII analyst role reads),
    # SMS concatenation flags, and the HTML usage and cost report rendered at the end of the daily DAG.
    include_message: bool = False  # CDR_INCLUDE_MESSAGE: ask for message_body (SMS, MESSAGES)
    show_concatenated: bool = False  # CDR_SHOW_CONCATENATED: ask for concatenated (outbound SMS)
    report_dir: Path = PROJECT_ROOT / ".state" / "reports"  # CDR_REPORT_DIR
    report_days: int = 30  # CDR_REPORT_DAYS: days the report covers, ending at the newest loaded day
    # What a report file may hold (include/vonage_cdr/normalize/limits.py explains each cap)
    max_record_bytes: int = 1024 * 1024
    max_decompressed_bytes: int = 8 * 1024**3
    max_compression_ratio: float = 100.0
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``CDR_*`` variables; unset ones keep their defaults."""
        env = os.environ if env is None else env
        kwargs: dict[str, object] = {}

        def get(name: str) -> str | None:
            value = env.get(name)
            return value if value not in (None, "") else None

        def minutes(name: str) -> timedelta | None:
            raw = get(name)
            if raw is None:
                return None
            try:
                return timedelta(minutes=float(raw))
            except ValueError as exc:
                raise SettingsError(f"{name} must be a number of minutes, got {raw!r}") from exc

        def seconds(name: str) -> timedelta | None:
            raw = get(name)
            if raw is None:
                return None
            try:
                return timedelta(seconds=float(raw))
            except ValueError as exc:
                raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from exc

        try:
            if (raw := get("CDR_PRODUCTS")) is not None:
                kwargs["products"] = tuple(p.upper() for p in _csv(raw))
            if (raw := get("CDR_SYNC_PRODUCTS")) is not None:
                kwargs["sync_products"] = tuple(p.upper() for p in _csv(raw))
            elif "products" in kwargs:
                kwargs["sync_products"] = kwargs["products"]
            if (raw := get("CDR_ACCOUNTS")) is not None:
                kwargs["accounts"] = _csv(raw)
            if (raw := get("CDR_INCLUDE_SUBACCOUNTS")) is not None:
                kwargs["include_subaccounts"] = _bool(raw)
            for name, attr in (
                ("CDR_VONAGE_CONN_ID", "vonage_conn_id"),
                ("CDR_WAREHOUSE_CONN_ID", "warehouse_conn_id"),
                ("CDR_WAREHOUSE_ADMIN_CONN_ID", "warehouse_admin_conn_id"),
                ("CDR_API_POOL", "api_pool"),
                ("CDR_OWNER_ROLE", "owner_role"),
                ("CDR_LOADER_ROLE", "loader_role"),
                ("CDR_ANALYST_ROLE", "analyst_role"),
                ("CDR_LAKE_CONN_ID", "lake_conn_id"),
            ):
                if (raw := get(name)) is not None:
                    kwargs[attr] = raw
            if (raw := get("CDR_LAKE_ROOT")) is not None:
                try:
                    kwargs["lake_root"] = parse_lake_root(raw).url if "://" in raw else raw
                except ValueError as exc:
                    raise SettingsError(f"CDR_LAKE_ROOT: {exc}") from exc
            if (raw := get("CDR_WORK_DIR")) is not None:
                kwargs["work_dir"] = Path(raw)
            for name, attr in (
                ("CDR_DB_CONNECT_TIMEOUT_SECONDS", "db_connect_timeout"),
                ("CDR_DB_STATEMENT_TIMEOUT_SECONDS", "db_statement_timeout"),
                ("CDR_DB_LOCK_TIMEOUT_SECONDS", "db_lock_timeout"),
                ("CDR_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS", "db_idle_in_transaction_timeout"),
                ("CDR_DB_KEEPALIVES_IDLE_SECONDS", "db_keepalives_idle"),
                ("CDR_DB_KEEPALIVES_INTERVAL_SECONDS", "db_keepalives_interval"),
            ):
                if (value := seconds(name)) is not None:
                    kwargs[attr] = value
            if (raw := get("CDR_DB_KEEPALIVES_COUNT")) is not None:
                kwargs["db_keepalives_count"] = int(raw)
            for name, attr in (
                ("CDR_TASK_TIMEOUT_MINUTES", "task_execution_timeout"),
                ("CDR_SYNC_TASK_TIMEOUT_MINUTES", "sync_task_execution_timeout"),
            ):
                if (value := minutes(name)) is not None:
                    kwargs[attr] = value
            if (raw := get("CDR_TASK_RETRIES")) is not None:
                kwargs["task_retries"] = int(raw)
            if (raw := get("CDR_RETRY_DELAY_SECONDS")) is not None:
                kwargs["retry_delay"] = timedelta(seconds=float(raw))
            if (raw := get("CDR_SETTLEMENT_DELAY_HOURS")) is not None:
                kwargs["settlement_delay"] = timedelta(hours=float(raw))
            if (raw := get("CDR_RELOAD_LAGS_DAYS")) is not None:
                lags = tuple(sorted({int(x) for x in _csv(raw)}))
                if not lags or min(lags) < 1:
                    raise SettingsError(f"CDR_RELOAD_LAGS_DAYS must list whole days >= 1, got {raw!r}")
                kwargs["reload_lags_days"] = lags
            if (raw := get("CDR_REPORT_POLL_SECONDS")) is not None:
                kwargs["report_poll_interval"] = timedelta(seconds=float(raw))
            if (raw := get("CDR_REPORT_INITIAL_DELAY_SECONDS")) is not None:
                kwargs["report_initial_delay"] = timedelta(seconds=float(raw))
            if (raw := get("CDR_REPORT_DEADLINE_HOURS")) is not None:
                kwargs["report_deadline"] = timedelta(hours=float(raw))
            for name, attr in (
                ("CDR_MAX_RECORD_BYTES", "max_record_bytes"),
                ("CDR_MAX_DECOMPRESSED_BYTES", "max_decompressed_bytes"),
            ):
                if (raw := get(name)) is not None:
                    kwargs[attr] = int(raw)
            if (raw := get("CDR_MAX_COMPRESSION_RATIO")) is not None:
                kwargs["max_compression_ratio"] = float(raw)
            for name, attr in (
                ("CDR_SYNC_INTERVAL_MINUTES", "sync_interval"),
                ("CDR_SYNC_OVERLAP_MINUTES", "sync_overlap"),
                ("CDR_SYNC_SAFETY_MARGIN_MINUTES", "sync_safety_margin"),
                ("CDR_SYNC_INITIAL_LOOKBACK_MINUTES", "sync_initial_lookback"),
                ("CDR_SYNC_MAX_CATCHUP_MINUTES", "sync_max_catchup_per_run"),
                ("CDR_SYNC_MAX_WINDOW_MINUTES", "sync_max_window"),
            ):
                if (value := minutes(name)) is not None:
                    kwargs[attr] = value
            for name, attr in (
                ("CDR_INCLUDE_MESSAGE", "include_message"),
                ("CDR_SHOW_CONCATENATED", "show_concatenated"),
            ):
                if (raw := get(name)) is not None:
                    kwargs[attr] = _bool(raw)
            if (raw := get("CDR_REPORT_DIR")) is not None:
                kwargs["report_dir"] = Path(raw)
            if (raw := get("CDR_REPORT_DAYS")) is not None:
                if int(raw) < 1:
                    raise SettingsError(f"CDR_REPORT_DAYS must be a whole number of days >= 1, got {raw!r}")
                kwargs["report_days"] = int(raw)
        except SettingsError:
            raise
        except ValueError as exc:
            raise SettingsError(f"invalid CDR_* setting: {exc}") from exc
        return cls(**kwargs)  # type: ignore[arg-type]

    def __post_init__(self) -> None:
        self.validate()

    def warehouse_session_bounds(self) -> SessionBounds:
        """The CDR_DB_* bounds of every warehouse session the pipeline opens."""
        from include.vonage_cdr.warehouse.connect import SessionBounds

        return SessionBounds(
            connect_timeout=self.db_connect_timeout.total_seconds(),
            statement_timeout=self.db_statement_timeout.total_seconds(),
            lock_timeout=self.db_lock_timeout.total_seconds(),
            idle_in_transaction_session_timeout=self.db_idle_in_transaction_timeout.total_seconds(),
            keepalives_idle=self.db_keepalives_idle.total_seconds(),
            keepalives_interval=self.db_keepalives_interval.total_seconds(),
            keepalives_count=self.db_keepalives_count,
        )

    def validate(self) -> None:
        """Refuse values the pipeline cannot use, naming the variable; runs whenever settings are built."""
        for product in self.products:
            check_product(product, "CDR_PRODUCTS")
        for product in self.sync_products:
            check_product(product, "CDR_SYNC_PRODUCTS")
        for account in self.accounts:
            check_account_id(account, "CDR_ACCOUNTS")
        for name, value in (
            ("CDR_OWNER_ROLE", self.owner_role),
            ("CDR_LOADER_ROLE", self.loader_role),
            ("CDR_ANALYST_ROLE", self.analyst_role),
        ):
            _check_name(_ROLE_NAME, value, name, "PostgreSQL role name ([A-Za-z_][A-Za-z0-9_]*)")
        if len({self.owner_role, self.loader_role, self.analyst_role}) != 3:
            raise SettingsError("CDR_OWNER_ROLE, CDR_LOADER_ROLE and CDR_ANALYST_ROLE must be three roles")
        for name, value in (
            ("CDR_VONAGE_CONN_ID", self.vonage_conn_id),
            ("CDR_WAREHOUSE_CONN_ID", self.warehouse_conn_id),
            ("CDR_WAREHOUSE_ADMIN_CONN_ID", self.warehouse_admin_conn_id),
            ("CDR_API_POOL", self.api_pool),
        ):
            _check_name(_AIRFLOW_NAME, value, name, "Airflow connection id / pool name")
        if self.warehouse_admin_conn_id == self.warehouse_conn_id:
            raise SettingsError(
                "CDR_WAREHOUSE_ADMIN_CONN_ID must differ from CDR_WAREHOUSE_CONN_ID: the runtime login is "
                "not the owner"
            )
        for name, value in (
            ("CDR_DB_CONNECT_TIMEOUT_SECONDS", self.db_connect_timeout),
            ("CDR_DB_KEEPALIVES_IDLE_SECONDS", self.db_keepalives_idle),
            ("CDR_DB_KEEPALIVES_INTERVAL_SECONDS", self.db_keepalives_interval),
            ("CDR_TASK_TIMEOUT_MINUTES", self.task_execution_timeout),
            ("CDR_SYNC_TASK_TIMEOUT_MINUTES", self.sync_task_execution_timeout),
        ):
            if value <= timedelta(0):
                raise SettingsError(f"{name} must be positive: every wait is bounded")
        for name, value in (
            ("CDR_DB_STATEMENT_TIMEOUT_SECONDS", self.db_statement_timeout),
            ("CDR_DB_LOCK_TIMEOUT_SECONDS", self.db_lock_timeout),
            ("CDR_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECONDS", self.db_idle_in_transaction_timeout),
        ):
            if value <= timedelta(0):
                raise SettingsError(f"{name} must be positive (0 would mean no limit)")
        if self.db_keepalives_count < 1:
            raise SettingsError("CDR_DB_KEEPALIVES_COUNT must be at least 1")
        if self.task_retries < 1:
            raise SettingsError(
                "CDR_TASK_RETRIES must be at least 1: the API and the deferral race need retries"
            )
        if not self.products:
            raise SettingsError("CDR_PRODUCTS lists no product")
        if self.sync_max_window > timedelta(hours=24):
            raise SettingsError(
                "CDR_SYNC_MAX_WINDOW_MINUTES may not exceed 1440: the sync API allows 24 hours"
            )
        if self.sync_interval <= timedelta(0):
            raise SettingsError("CDR_SYNC_INTERVAL_MINUTES must be positive")
        if self.lake_conn_id and parse_lake_root(self.lake_root).scheme == "file":
            raise SettingsError(
                "CDR_LAKE_CONN_ID is set but CDR_LAKE_ROOT is a local path: set CDR_LAKE_ROOT=s3://bucket/prefix"
            )
        if self.sync_overlap < timedelta(0) or self.sync_safety_margin < timedelta(0):
            raise SettingsError("CDR_SYNC_OVERLAP_MINUTES and CDR_SYNC_SAFETY_MARGIN_MINUTES must be >= 0")
        if self.max_record_bytes < 1024 or self.max_decompressed_bytes < 1 or self.max_compression_ratio < 1:
            raise SettingsError(
                "CDR_MAX_RECORD_BYTES must be at least 1024; CDR_MAX_DECOMPRESSED_BYTES and "
                "CDR_MAX_COMPRESSION_RATIO must be positive"
            )

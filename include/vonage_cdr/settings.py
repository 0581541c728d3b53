"""Pipeline settings, read from ``CDR_*`` environment variables.

Why environment variables: every Airflow component (scheduler, DAG processor, workers, triggerer)
gets the same environment from the deployment (docker-compose ``.env``, Helm values), DAG files can
read them at parse time without touching the metadata database, and tests can set them per case.
This module imports only the standard library because DAG files import it at top level.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from include.vonage_cdr.products import DEFAULT_PRODUCTS

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


@dataclass(frozen=True)
class Settings:
    """Everything the two DAGs need to know that is not a secret (secrets live in connections)."""

    products: tuple[str, ...] = DEFAULT_PRODUCTS
    accounts: tuple[str, ...] = ()  # empty: the Vonage connection's account_id
    include_subaccounts: bool = False
    vonage_conn_id: str = "vonage_default"
    warehouse_conn_id: str = "cdr_warehouse"
    lake_root: Path = PROJECT_ROOT / ".state" / "lake"
    work_dir: Path = PROJECT_ROOT / ".state" / "work"
    api_pool: str = "vonage_reports_api"
    task_retries: int = 3
    retry_delay: timedelta = timedelta(minutes=2)
    loader_role: str = "cdr_loader"
    analyst_role: str = "cdr_analyst"
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
                ("CDR_API_POOL", "api_pool"),
                ("CDR_LOADER_ROLE", "loader_role"),
                ("CDR_ANALYST_ROLE", "analyst_role"),
            ):
                if (raw := get(name)) is not None:
                    kwargs[attr] = raw
            for name, attr in (("CDR_LAKE_ROOT", "lake_root"), ("CDR_WORK_DIR", "work_dir")):
                if (raw := get(name)) is not None:
                    kwargs[attr] = Path(raw)
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
        except SettingsError:
            raise
        except ValueError as exc:
            raise SettingsError(f"invalid CDR_* setting: {exc}") from exc
        settings = cls(**kwargs)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
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
        if self.sync_overlap < timedelta(0) or self.sync_safety_margin < timedelta(0):
            raise SettingsError("CDR_SYNC_OVERLAP_MINUTES and CDR_SYNC_SAFETY_MARGIN_MINUTES must be >= 0")
        if self.max_record_bytes < 1024 or self.max_decompressed_bytes < 1 or self.max_compression_ratio < 1:
            raise SettingsError(
                "CDR_MAX_RECORD_BYTES must be at least 1024; CDR_MAX_DECOMPRESSED_BYTES and "
                "CDR_MAX_COMPRESSION_RATIO must be positive"
            )

"""Read what the usage and cost report shows from the warehouse's analytics views.

Why a separate module: the page and the charts only arrange numbers; every number comes from one of the
``sql/*.sql`` queries over the analytics views (the same views analysts query), rolled up the way the data
dictionary prescribes (counts and exact amounts summed, rounded once, rates from summed counts). The
queries run in one read-only transaction, so the page shows one consistent snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

SQL_DIR = Path(__file__).resolve().parent / "sql"

Row = dict[str, Any]


@cache
def query(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows, as rows of the report's queries."""

    generated_at: datetime
    first_day: date | None
    last_day: date | None
    first_load_day: date | None
    last_load_day: date | None
    totals: list[Row] = field(default_factory=list)
    usage: list[Row] = field(default_factory=list)
    top_countries: list[Row] = field(default_factory=list)
    top_accounts: list[Row] = field(default_factory=list)
    delivery: list[Row] = field(default_factory=list)
    video: list[Row] = field(default_factory=list)
    freshness: list[Row] = field(default_factory=list)
    reports_api: list[Row] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.last_day is None and self.last_load_day is None


def read_report_data(dsn: str, *, days: int = 30, top: int = 10) -> ReportData:
    """Run the report's queries against the warehouse at ``dsn`` (read-only) for the last ``days`` days."""
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        conn.read_only = True
        with conn.transaction():
            window = conn.execute(query("report_window")).fetchone() or {}
            last_day: date | None = window.get("last_usage_day")
            last_load_day: date | None = window.get("last_load_day")
            first_day = last_day - timedelta(days=days - 1) if last_day else None
            first_load_day = last_load_day - timedelta(days=days - 1) if last_load_day else None
            params = {
                "first_day": first_day,
                "last_day": last_day,
                "first_load_day": first_load_day,
                "last_load_day": last_load_day,
                "top": top,
            }

            def rows(name: str) -> list[Row]:
                return list(conn.execute(query(name), params).fetchall())

            return ReportData(
                generated_at=datetime.now(UTC),
                first_day=first_day,
                last_day=last_day,
                first_load_day=first_load_day,
                last_load_day=last_load_day,
                totals=rows("totals"),
                usage=rows("cdrs_and_cost_by_product_day"),
                top_countries=rows("top_countries"),
                top_accounts=rows("top_accounts"),
                delivery=rows("delivery_by_product_day"),
                video=rows("video_by_feature_day"),
                freshness=rows("freshness"),
                reports_api=rows("reports_api_cost_by_day"),
            )

"""``cdr.report_requests``: the warehouse's durable memory of the Vonage reports the pipeline requested.

Why in the warehouse: it is the one durable store every worker of every deployment already has and that
survives Airflow retries, cleared tasks and re-runs (XCom does not: a new try starts without it). The
operator records a report's request id here the moment Vonage accepts it, before deferring, and the next
try reads it back (:mod:`include.vonage_cdr.client.reuse`). Each call opens its own short, bounded session:
the registry is consulted twice per report, not per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from psycopg.types.json import Jsonb

from include.vonage_cdr.client.models import Report, ReportRequest
from include.vonage_cdr.warehouse.connect import SessionBounds, connect

SQL_DIR = Path(__file__).resolve().parent / "sql"


@cache
def _sql(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


class WarehouseReportRegistry:
    """A :class:`~include.vonage_cdr.client.reuse.ReportRegistry` on ``cdr.report_requests``."""

    def __init__(
        self,
        dsn: str,
        *,
        bounds: SessionBounds | None = None,
        airflow: Mapping[str, Any] | None = None,
    ) -> None:
        self._dsn = dsn
        self._bounds = bounds
        self._airflow = dict(airflow or {})

    def __repr__(self) -> str:  # the dsn may hold a password
        return "WarehouseReportRegistry()"

    def recent_request_ids(self, req: ReportRequest) -> list[str]:
        with connect(self._dsn, self._bounds, autocommit=True) as conn:
            query = _sql("report_requests_find.sql")
            rows = conn.execute(query, {"fingerprint": req.fingerprint()}).fetchall()  # type: ignore[arg-type]
        return [str(row[0]) for row in rows]

    def record(self, req: ReportRequest, report: Report, *, found_by: str) -> None:
        params = {
            "request_id": report.request_id,
            "fingerprint": req.fingerprint(),
            "product": req.product,
            "account_id": req.account_id,
            "direction": req.direction or "",
            "date_start": req.date_start,
            "date_end": req.date_end,
            "request_params": Jsonb(req.to_body()),
            "found_by": found_by,
            "receive_time": report.receive_time,
            "dag_id": self._airflow.get("dag_id"),
            "run_id": self._airflow.get("run_id"),
            "task_id": self._airflow.get("task_id"),
            "try_number": self._airflow.get("try_number"),
        }
        with connect(self._dsn, self._bounds, autocommit=True) as conn:
            conn.execute(_sql("report_requests_record.sql"), params)  # type: ignore[arg-type]

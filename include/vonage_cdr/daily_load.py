"""Load one completed async report: download, normalize, merge into PostgreSQL, publish to the Parquet lake.

The Airflow task around this is a thin wrapper; everything here is testable without a scheduler.
XCom carries the report's id, this function's counts and the lake file's URL (``file:///...`` or
``s3://...``), never rows or local paths: the report is downloaded here, into this task's local work
directory, because the task before (the report request) may have run on another worker.

A day is loaded only when the file is shown complete: a TRUNCATED report is refused (``ReportTruncated``:
split the window), and the rows read (typed + quarantined, duplicates included) must equal the report's
``items_count`` (``IncompleteFile`` otherwise: an empty ZIP, a ZIP without a CSV, a header-only or a cut
CSV). Every attempt downloads the file again, so a retry fetches a fresh copy; a file that fails a check
never reaches the warehouse or the lake (the lake file is published only after the warehouse committed).
A legitimately empty day (``items_count`` 0, a file without rows) loads as empty.

Temporary files of an attempt that was killed (a ``.part`` download, a normalizer's ``.tmp``) are removed
at the start of the next attempt at the same partition.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from include.vonage_cdr.client import (
    Report,
    ReportExpired,
    ReportRequest,
    ReportsClient,
    ReportTruncated,
    raise_for_outcome,
)
from include.vonage_cdr.client.timestamps import parse_vonage_timestamp
from include.vonage_cdr.incremental import SyncPartition, record_freshness
from include.vonage_cdr.lake import Lake, remove_stale_files
from include.vonage_cdr.normalize import normalize_zip
from include.vonage_cdr.normalize.errors import IncompleteFile
from include.vonage_cdr.normalize.limits import DEFAULT_LIMITS, ReadLimits
from include.vonage_cdr.planning import message_options
from include.vonage_cdr.products import get_product
from include.vonage_cdr.warehouse.load import LoadRequest, load_while_normalizing

log = logging.getLogger(__name__)


def _request_from(
    report: Mapping[str, Any], *, include_message: bool = False, show_concatenated: bool = False
) -> ReportRequest:
    """The request a replacement report repeats, message options included (same rules as the plan)."""
    direction = report.get("direction")
    body, concatenated = message_options(
        get_product(report["product"]),
        direction,
        include_message=include_message,
        show_concatenated=show_concatenated,
    )
    return ReportRequest(
        product=report["product"],
        account_id=report["account_id"],
        date_start=parse_vonage_timestamp(report["date_start"]),
        date_end=parse_vonage_timestamp(report["date_end"]),
        direction=direction,
        include_subaccounts=bool(report.get("include_subaccounts", False)),
        include_message=body,
        filters={"show_concatenated": "true"} if concatenated else {},
    )


def _replacement_report(
    client: ReportsClient, req: ReportRequest, *, poll_seconds: float, deadline_seconds: float
) -> Report:
    """Create (or reuse) a new report when the old one's file or metadata expired, and wait for it.

    This is the rare path (a load task cleared or retried days after its report completed); it
    polls on the worker because the task cannot defer from here, within a bounded deadline.
    """
    report = client.find_reusable_report(req) or client.create_report(req)
    report = client.wait_for_report(report.request_id, poll_interval=poll_seconds, timeout=deadline_seconds)
    return raise_for_outcome(report)  # FAILED/ABORTED/TRUNCATED raise their specific errors


def _expected_rows(report: Report, file_name: str) -> int:
    """The rows the file must hold; refuse a report that cannot be shown complete."""
    if str(report.request_status).upper() == "TRUNCATED":
        raise ReportTruncated(
            f"{file_name}: report {report.request_id} is TRUNCATED (Vonage cut it at its size limit); "
            "a truncated day is not loaded: split the window",
            request_id=report.request_id,
        )
    if report.items_count is None:
        raise IncompleteFile(
            f"{file_name}: report {report.request_id} announces no items_count, so the file cannot be shown "
            "complete; refusing to load it"
        )
    return int(report.items_count)


def load_report_partition(
    client: ReportsClient,
    dsn: str,
    report: Mapping[str, Any],
    *,
    lake: Lake,
    work_dir: Path,
    airflow: Mapping[str, Any] | None = None,
    replacement_poll_seconds: float = 15.0,
    replacement_deadline_seconds: float = 3600.0,
    include_message: bool = False,
    show_concatenated: bool = False,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> dict[str, Any]:
    """Download and load the report the operator completed; returns counts for XCom."""
    started = datetime.now(UTC)
    product = get_product(report["product"])
    req = _request_from(report, include_message=include_message, show_concatenated=show_concatenated)
    day = req.date_start.astimezone(UTC).date()
    work = work_dir / f"{product.table}-{req.account_id}-{req.direction or 'all'}-{day.isoformat()}"
    target = lake.partition_file(product.name, day, req.account_id, req.direction)
    stale = remove_stale_files(work, before=started) + lake.remove_stale_temp_files(target, before=started)
    if stale:
        log.warning("removed %d temporary files of an earlier, interrupted attempt: %s", len(stale), stale)
    work.mkdir(parents=True, exist_ok=True)
    replaced_from: str | None = None
    try:
        t0 = time.monotonic()
        try:
            current = client.get_report(report["request_id"])
            if not current.download_url:  # metadata lives 4 days, the file only 72 hours
                raise ReportExpired(f"report {current.request_id} no longer has a file", status=404)
            zip_path = client.download_report(current, work)
        except ReportExpired:
            replaced_from = report["request_id"]
            current = _replacement_report(
                client,
                req,
                poll_seconds=replacement_poll_seconds,
                deadline_seconds=replacement_deadline_seconds,
            )
            zip_path = client.download_report(current, work)
        download_seconds = time.monotonic() - t0
        expected = _expected_rows(current, zip_path.name)

        # normalize and load at once (the Parquet file and the table are written side by side)
        result, load = load_while_normalizing(
            dsn,
            LoadRequest(
                product=product,
                account_id=req.account_id,
                direction=req.direction,
                mode="async",
                window_start=req.date_start,
                window_end=req.date_end,
                report_request_id=current.request_id,
                source_file=zip_path.name,
                cdrs_billed=expected,
                started_at=started,
                download_seconds=download_seconds,
                airflow=airflow,
                rows_expected=expected,
            ),
            lambda sink: normalize_zip(
                zip_path, product, work / target.name, direction=req.direction, limits=limits, on_batch=sink
            ),
            extra_sql_in_txn=lambda conn, load_id: record_freshness(
                conn,
                SyncPartition(product.name, req.account_id, req.direction),
                product,
                current.receive_time or datetime.now(UTC),
                load_id,
                mode="async",
                window_end=req.date_end,
            ),
        )
        lake.publish(target, result.parquet_path, result.quarantine_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "product": product.name,
        "table": f"cdr.{product.table}",
        "account_id": req.account_id,
        "direction": req.direction,
        "day": day.isoformat(),
        "report_request_id": current.request_id,
        "replaced_expired_report": replaced_from,
        "parquet_path": target.url,  # file:///... or s3://bucket/...
        "load_id": load.load_id,
        "rows_read": load.rows_read,
        "rows_inserted": load.rows_inserted,
        "rows_updated": load.rows_updated,
        "rows_unchanged": load.rows_unchanged,
        "rows_quarantined": load.rows_quarantined,
        "rows_duplicate": load.rows_duplicate,
        "rows_moved": load.rows_moved,
        "unknown_columns": list(result.unknown_columns),
        "missing_columns": list(result.missing_columns),
        "cdrs_billed": load.cdrs_billed,
    }

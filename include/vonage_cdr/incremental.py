"""Incremental loading through the synchronous records endpoint.

Each run reads, per partition (product, account, direction), from the stored watermark minus a
short overlap up to "now minus a safety margin" on Vonage's clock, in windows the API allows, and
follows every page. The data of a window and the watermark move in one transaction, so a failure
anywhere leaves the watermark where the data is, and the next run simply reads that window again.

Why the overlap is short: every re-read CDR is billed. Records that reach Vonage's index late (more
than the margin plus the overlap) and late status or price changes are the daily DAG's job; it
re-reads whole days once they have settled. With the defaults (5-minute runs, 1-minute overlap)
this DAG reads each CDR about 1.2 times; with the daily load, about 2.2 reads per CDR in all.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import sql

from include.vonage_cdr.background import ahead
from include.vonage_cdr.lake import remove_stale_files
from include.vonage_cdr.normalize import normalize_records
from include.vonage_cdr.planning import directions_for, message_options
from include.vonage_cdr.products import Product, get_product
from include.vonage_cdr.settings import Settings
from include.vonage_cdr.warehouse.load import LoadRequest, load_normalized

#: pages (1,000 records each) read ahead of the normalizer: the read runs at the client's pace
PAGES_AHEAD = 4


class RecordsSource(Protocol):
    """What this module needs from the API client (ReportsClient satisfies it)."""

    cdrs_retrieved: int

    def iter_record_pages(
        self, product: str, account_id: str, date_start: datetime, date_end: datetime, **kwargs: Any
    ) -> Iterator[Any]: ...


@dataclass(frozen=True)
class SyncPartition:
    product: str
    account_id: str
    direction: str | None

    @property
    def direction_key(self) -> str:
        return self.direction or ""

    def to_dict(self) -> dict[str, str | None]:
        return {"product": self.product, "account_id": self.account_id, "direction": self.direction}


def plan_sync_partitions(products: tuple[str, ...], accounts: tuple[str, ...]) -> list[SyncPartition]:
    """One partition per product, account and (where the product requires one) direction.

    The sync endpoint needs a separate request per subaccount, so accounts are listed explicitly.
    """
    parts: list[SyncPartition] = []
    for name in products:
        product = get_product(name)
        parts.extend(
            SyncPartition(product.name, account, d) for account in accounts for d in directions_for(product)
        )
    return parts


def plan_windows(
    watermark: datetime | None, now: datetime, settings: Settings
) -> list[tuple[datetime, datetime]]:
    """The windows to read this run: bounded per run, none longer than the API allows.

    Instants are compared as parsed, timezone-aware datetimes, never as strings.
    """
    limit = now.astimezone(UTC) - settings.sync_safety_margin
    if watermark is None:
        start = limit - settings.sync_initial_lookback
        covered_until = start
    else:
        covered_until = watermark.astimezone(UTC)
        start = covered_until - settings.sync_overlap
    end = min(limit, covered_until + settings.sync_max_catchup_per_run)
    windows: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        upper = min(end, cursor + settings.sync_max_window)
        windows.append((cursor, upper))
        cursor = upper
    return windows


def read_watermark(conn: psycopg.Connection, part: SyncPartition) -> datetime | None:
    row = conn.execute(
        "SELECT watermark FROM cdr.sync_watermark WHERE product = %s AND account_id = %s AND direction = %s",
        (part.product, part.account_id, part.direction_key),
    ).fetchone()
    return row[0] if row else None


def _advance_in_txn(part: SyncPartition, product: Product, window_end: datetime, now: datetime):
    """Build the callback the loader runs inside the data's transaction, just before commit."""

    def advance(conn: psycopg.Connection, load_id: int) -> None:
        conn.execute(
            """
            INSERT INTO cdr.sync_watermark (product, account_id, direction, watermark, updated_at, load_id)
            VALUES (%s, %s, %s, %s, now(), %s)
            ON CONFLICT (product, account_id, direction) DO UPDATE
              SET watermark = GREATEST(cdr.sync_watermark.watermark, EXCLUDED.watermark),
                  updated_at = now(), load_id = EXCLUDED.load_id
            """,
            (part.product, part.account_id, part.direction_key, window_end, load_id),
        )
        record_freshness(conn, part, product, now, load_id, mode="sync", window_end=window_end)

    return advance


def record_freshness(
    conn: psycopg.Connection,
    part: SyncPartition,
    product: Product,
    now: datetime,
    load_id: int,
    mode: str,
    window_end: datetime,
) -> None:  # also used by the daily load (mode "async"), inside the data's transaction
    """Store the newest event this mode has covered for the partition and its lag behind ``now``.

    Bounded by the loaded window's end, so the daily stream's freshness is not borrowed from rows
    the incremental stream loaded (and vice versa). Never moves backwards: re-loading an older day (or
    loading with an older report's ``now``) keeps the newest event and check time already recorded, and
    the lag is recomputed from those.
    """
    filters = [sql.SQL("account_id = %s"), sql.SQL("event_time < %s")]
    params: list[Any] = [part.account_id, window_end]
    if part.direction and product.has_column("direction"):
        filters.append(sql.SQL("{} = %s").format(sql.Identifier(product.column("direction").name)))
        params.append(part.direction)
    newest_query = sql.SQL("SELECT max(event_time) FROM {} WHERE {}").format(
        sql.Identifier("cdr", product.table), sql.SQL(" AND ").join(filters)
    )
    row = conn.execute(newest_query, params).fetchone()
    newest = row[0] if row else None
    lag = (now - newest).total_seconds() if newest is not None else None
    conn.execute(
        """
        INSERT INTO cdr.freshness (product, account_id, direction, mode, newest_event_at, checked_at,
                                   lag_seconds, load_id)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (product, account_id, direction, mode) DO UPDATE
          SET newest_event_at = GREATEST(cdr.freshness.newest_event_at, EXCLUDED.newest_event_at),
              checked_at = GREATEST(cdr.freshness.checked_at, EXCLUDED.checked_at),
              lag_seconds = extract(epoch FROM
                  GREATEST(cdr.freshness.checked_at, EXCLUDED.checked_at)
                  - GREATEST(cdr.freshness.newest_event_at, EXCLUDED.newest_event_at)),
              load_id = EXCLUDED.load_id
        """,
        (part.product, part.account_id, part.direction_key, mode, newest, now, lag, load_id),
    )


def sync_partition(
    client: RecordsSource,
    dsn: str,
    part: SyncPartition,
    *,
    now: datetime,
    settings: Settings,
    work_dir: Path,
    airflow: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Read and load this run's windows for one partition; return counts for XCom (never rows)."""
    run_started = datetime.now(UTC)
    product = get_product(part.product)
    with psycopg.connect(dsn) as conn:
        watermark = read_watermark(conn, part)
    windows = plan_windows(watermark, now, settings)
    summary: dict[str, Any] = {
        **part.to_dict(),
        "watermark_before": watermark.isoformat() if watermark else None,
        "windows": len(windows),
        "rows_read": 0,
        "rows_inserted": 0,
        "rows_updated": 0,
        "rows_quarantined": 0,
        "cdrs_billed": 0,
        "load_ids": [],
    }
    # One directory per partition: a killed run's files (a normalizer's .tmp) are removed by the next one,
    # without touching the live files of the other partitions running beside it.
    part_dir = work_dir / f"sync-{product.table}-{part.account_id}-{part.direction or 'all'}"
    remove_stale_files(part_dir, before=run_started)
    part_dir.mkdir(parents=True, exist_ok=True)
    for window_start, window_end in windows:
        started = datetime.now(UTC)
        billed_before = client.cdrs_retrieved
        t0 = time.monotonic()
        request_kw: dict[str, Any] = {"direction": part.direction} if part.direction else {}
        body, concatenated = message_options(
            product,
            part.direction,
            include_message=settings.include_message,
            show_concatenated=settings.show_concatenated,
        )
        request_kw.update({"include_message": True} if body else {})
        request_kw.update({"show_concatenated": "true"} if concatenated else {})

        def records(
            ws: datetime = window_start, we: datetime = window_end, kw: Mapping[str, Any] = request_kw
        ) -> Iterator[Mapping[str, Any]]:
            # pages are fetched ahead (at the client's pace) while the previous ones are normalized
            pages = client.iter_record_pages(part.product, part.account_id, ws, we, **kw)
            for page in ahead(pages, PAGES_AHEAD, name="cdr-sync-pages"):
                yield from page.records

        with tempfile.TemporaryDirectory(dir=part_dir, prefix="window-") as tmp:
            source = f"sync:{part.product}:{part.account_id}:{window_start.isoformat()}"
            result = normalize_records(
                records(), product, Path(tmp) / "window.parquet", source_name=source, direction=part.direction
            )
            download_seconds = time.monotonic() - t0
            load = load_normalized(
                dsn,
                LoadRequest(
                    product=product,
                    account_id=part.account_id,
                    direction=part.direction,
                    mode="sync",
                    window_start=window_start,
                    window_end=window_end,
                    report_request_id=None,
                    source_file=source,
                    cdrs_billed=client.cdrs_retrieved - billed_before,
                    started_at=started,
                    download_seconds=download_seconds,
                    airflow=airflow,
                ),
                result,
                extra_sql_in_txn=_advance_in_txn(part, product, window_end, now),
            )
        summary["rows_read"] += load.rows_read
        summary["rows_inserted"] += load.rows_inserted
        summary["rows_updated"] += load.rows_updated
        summary["rows_quarantined"] += load.rows_quarantined
        summary["load_ids"].append(load.load_id)
        summary["cdrs_billed"] += client.cdrs_retrieved - billed_before
    summary["watermark_after"] = windows[-1][1].isoformat() if windows else summary["watermark_before"]
    summary["behind_by_seconds"] = (
        (now - settings.sync_safety_margin - windows[-1][1]).total_seconds() if windows else None
    )
    return summary

"""The loader reads a lake file on object storage as a stream: ranged reads, one row group at a time.

The file and its quarantine live on a real S3-compatible server (moto's server mode); the warehouse is a real,
migrated PostgreSQL. The server records the HTTP requests it receives, so the test sees how the file was read.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import pyarrow.parquet as pq

from include.vonage_cdr.lake import Lake
from include.vonage_cdr.normalize import BATCH_ROWS, normalize_records
from include.vonage_cdr.products import get_product
from include.vonage_cdr.warehouse.load import LoadRequest, load_normalized

SMS = get_product("SMS")
START = datetime(2026, 11, 20, tzinfo=UTC)
ROWS = 3 * BATCH_ROWS + 10  # four row groups
BAD = {17, 40_000, ROWS - 1}  # unparseable prices: quarantined


def records():
    for i in range(ROWS):
        yield {
            "account_id": "abcd1234",
            "id": f"m{i:06d}",
            "date_received": (START + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
            "status": "delivered",
            "currency": "EUR",
            "total_price": "abc" if i in BAD else "0.0333",
            "message_body": f"message {i} " + "x" * 40,
        }


def _byte_range(entry: dict[str, Any]) -> tuple[int, int] | None:
    header = {k.lower(): v for k, v in entry["headers"].items()}.get("range")
    match = re.fullmatch(r"bytes=(\d+)-(\d+)", header or "")
    return (int(match[1]), int(match[2])) if match else None


def test_the_loader_copies_from_object_storage_row_group_by_row_group(
    s3_server: Any, s3_bucket: str, migrated_warehouse: Any, tmp_path: Path
) -> None:
    lake = Lake(f"s3://{s3_bucket}/lake", s3=s3_server.options())
    target = lake.partition_file("SMS", START.date(), "abcd1234", "outbound")
    local = normalize_records(records(), SMS, tmp_path / target.name, source_name="sync")
    assert local.quarantine_path is not None
    lake.publish(target, local.parquet_path, local.quarantine_path)  # uploaded in parts, then swapped in
    assert not local.parquet_path.exists()  # consumed: nothing of it is left on this machine
    # a load back from the lake (a rebuild, another warehouse): the same counts, the files on S3
    normalized = replace(
        local,
        parquet_path=target,
        quarantine_path=lake.quarantine_file("SMS", START.date(), "abcd1234", "outbound"),
    )
    size = target.info().size
    metadata = pq.ParquetFile(target.open_input_file()).metadata
    assert metadata.num_row_groups == 4

    request = LoadRequest(
        product=SMS,
        account_id="abcd1234",
        direction="outbound",
        mode="async",
        window_start=START,
        window_end=START + timedelta(days=1),
        report_request_id="req-s3",
        source_file="report.zip",
        cdrs_billed=ROWS,
        started_at=datetime.now(UTC),
    )
    with s3_server.recording() as seen:
        loaded = load_normalized(migrated_warehouse.dsn, request, normalized)

    assert (loaded.rows_read, loaded.rows_inserted, loaded.rows_quarantined) == (ROWS, ROWS - 3, 3)
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM cdr.sms").fetchone()[0] == ROWS - 3
        quarantined = conn.execute("SELECT line_number FROM cdr.quarantine ORDER BY 1").fetchall()
    assert [r[0] for r in quarantined] == sorted(i + 1 for i in BAD)

    key_path = f"/{s3_bucket}/{target.path.split('/', 1)[1]}"
    data_gets = [e for e in seen if e["method"] == "GET" and unquote(urlsplit(e["url"]).path) == key_path]
    ranges = [_byte_range(e) for e in data_gets]
    # every read of the data file is a ranged GET, none of them the whole file: the footer, then row groups
    assert ranges and None not in ranges, data_gets
    largest_row_group = max(
        sum(rg.column(c).total_compressed_size for c in range(rg.num_columns))
        for rg in (metadata.row_group(i) for i in range(metadata.num_row_groups))
    )
    assert all(end - start + 1 < size for start, end in ranges)  # type: ignore[misc]
    assert len(ranges) >= metadata.num_row_groups
    assert max(end - start + 1 for start, end in ranges) <= largest_row_group + 64 * 1024  # type: ignore[misc]

"""Loading a report while normalizing it holds a few batches, never the report.

Run in a child process so its Arrow memory pool is its own. Only the pool's peak is asserted (bounded by the
batches in flight, whatever the file's size); time and RSS are the benchmark's business (`make bench`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from include.vonage_cdr.bench import generate_sms_zip
from tests.warehouse.test_load_strategies import fetch

ROOT = Path(__file__).resolve().parents[2]
ROWS = 150_000

CHILD = """
import json, sys
from pathlib import Path
import pyarrow as pa
from include.vonage_cdr.bench.phases import load_report
out = load_report(sys.argv[1], sys.argv[2], sys.argv[3])
print(json.dumps({"rows": out["rows_read"], "strategy": out["load"].strategy,
                  "arrow_peak_mib": pa.default_memory_pool().max_memory() / 2**20}))
"""


def _load(dsn: str, zip_path: Path, parquet: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, dsn, str(zip_path), str(parquet)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_streaming_a_report_into_the_table_keeps_arrow_memory_bounded(
    tmp_path: Path, migrated_warehouse: Any
) -> None:
    zip_path = generate_sms_zip(tmp_path / "SMS_big.zip", ROWS)
    first = _load(migrated_warehouse.dsn, zip_path, tmp_path / "a.parquet")
    again = _load(migrated_warehouse.dsn, zip_path, tmp_path / "b.parquet")
    print(f"\nload {ROWS:,} rows while normalizing: {first}; reload: {again}")
    assert (first["rows"], first["strategy"], again["strategy"]) == (ROWS, "insert", "compare")
    assert fetch(migrated_warehouse.dsn, "SELECT count(*) AS n FROM cdr.sms") == [{"n": ROWS}]
    for run in (first, again):
        assert run["arrow_peak_mib"] < 200, run  # measured about 60-120 MiB: a few batches, not the report

"""Memory stays flat: normalizing a report must not hold the report in memory.

Run in a child process so its peak RSS is its own (the test process may already have grown). The bound is
generous (the figure measured here is printed); what it catches is a regression to reading the file or a
whole table into memory, which for 300k SMS rows (about 100 MiB of CSV) costs several hundred MiB more.
No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from include.vonage_cdr.bench import generate_sms_zip

ROOT = Path(__file__).resolve().parents[2]
ROWS = 300_000

CHILD = """
import json, resource, sys
from pathlib import Path
import pyarrow as pa
from include.vonage_cdr.normalize import normalize_zip
from include.vonage_cdr.products import get_product
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
result = normalize_zip(Path(sys.argv[1]), get_product("SMS"), Path(sys.argv[2]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": result.rows_ok, "growth_mib": (peak - base) / 1024,
                  "arrow_peak_mib": pa.default_memory_pool().max_memory() / 2**20}))
"""


def test_normalizing_300k_rows_keeps_memory_bounded(tmp_path: Path) -> None:
    zip_path = generate_sms_zip(tmp_path / "SMS_big.zip", ROWS)
    with zipfile.ZipFile(zip_path) as zf:
        csv_mib = sum(i.file_size for i in zf.infolist()) / 2**20
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(zip_path), str(tmp_path / "big.parquet")],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"\nnormalize {ROWS:,} rows ({csv_mib:.0f} MiB CSV): {figures}")
    assert figures["rows"] == ROWS
    assert figures["arrow_peak_mib"] < 150, figures  # measured 47 MiB: one batch, not the report
    assert figures["growth_mib"] < max(300, csv_mib * 1.5), figures  # measured ~100 MiB

"""The CI soak: two simulated days of both DAGs under injected faults and a load killed mid-COPY, seeded.

It runs ``python -m include.devtools.soak`` (what ``make soak`` runs, smaller) as a separate process, so the
soak has its own Airflow home and its own process to kill, against this test session's PostgreSQL server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CI_ARGS = [
    "--seed", "3",
    "--days", "2",
    "--products", "SMS,VOICE-CALL",
    "--records-per-day", "150",
    "--paged-records-per-day", "4000",
    "--sync-every-hours", "12",
    "--fault-scale", "2",
    "--time-limit-minutes", "12",
]  # fmt: skip


def run_soak(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[int, str, dict]:
    """Run the soak CLI; return its exit code, its output and its JSON summary."""
    summary = tmp_path / "soak.json"
    proc = subprocess.run(
        [sys.executable, "-m", "include.devtools.soak", *args, "--json-summary", str(summary)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=20 * 60,
    )
    print(proc.stdout)
    print(proc.stderr[-5000:], file=sys.stderr)
    return proc.returncode, proc.stdout, json.loads(summary.read_text()) if summary.exists() else {}


def test_after_faults_retries_and_a_killed_load_the_warehouse_equals_the_ground_truth(
    pg_admin_dsn: str, tmp_path: Path
) -> None:
    code, out, summary = run_soak([*CI_ARGS, "--database-url", pg_admin_dsn], tmp_path)
    assert summary, "the soak wrote no summary"
    assert summary["records"] > 1000
    assert sum(summary["faults"].values()) > 10, "faults were injected"
    kills = summary["kills"]
    assert len(kills) == 2 and all(k["killed_in_copy"] and k["rolled_back"] for k in kills)
    assert all("replaced the report" in line for line in summary["retries_after_kill"])
    assert summary["checkpoints"]["silent_missing"] == summary["checkpoints"]["silent_stale"] == 0
    assert "missing=0 duplicated=0 stale=0" in out
    assert summary["unexpected"] == 0
    assert code == 0

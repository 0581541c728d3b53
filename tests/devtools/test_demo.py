"""`make demo` end to end: the driver in a subprocess, with its own state dir, as a user would run it.

What a user cares about: every configured product lands rows for the day, the billing query shows
them, the command exits 0, and nothing it started (simulator, PostgreSQL, Airflow) keeps running.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from include.vonage_cdr.settings import DEFAULT_PRODUCTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: that is mode 0700, and as root PostgreSQL runs as the `postgres` user.
    path = Path(tempfile.mkdtemp(prefix="cdr-demo-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


@pytest.mark.slow
def test_demo_loads_every_product_shows_billing_and_leaves_nothing_running(state_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CDR_")) and k != "PYTHONPATH"}
    summary_path = state_dir / "summary.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "include.devtools.demo",
            "--state-dir",
            str(state_dir),
            "--records-per-day",
            "60",
            "--json-summary",
            str(summary_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]

    summary = json.loads(summary_path.read_text())
    rows = summary["rows_per_product"]
    assert set(rows) == set(DEFAULT_PRODUCTS), rows
    assert all(count > 0 for count in rows.values()), rows

    billed_products = {row[1] for row in summary["billing"]}
    assert billed_products == set(DEFAULT_PRODUCTS), summary["billing"]
    assert all(int(row[3]) == rows[row[1]] for row in summary["billing"]), (summary["billing"], rows)
    assert f"Billing for {summary['day']}" in output
    assert "FROM analytics.billing_daily" in output
    for product in DEFAULT_PRODUCTS:
        assert f"product={product}/date={summary['day']}" in summary["lake_partitions"]
        assert f"product={product}/date={summary['day']}" in output

    # It ends by printing where the usage and cost report (rendered by the daily DAG's last task) is.
    assert summary["report"] and Path(summary["report"]).is_file(), summary.get("report")
    assert result.stdout.rstrip().splitlines()[-1].endswith(summary["report"])

    for name in ("simulator_pid", "postgres_pid"):
        assert summary[name], summary
        assert not _alive(int(summary[name])), f"{name} {summary[name]} still runs"
    assert _processes_mentioning(str(state_dir)) == []

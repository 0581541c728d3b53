"""Backfill through Airflow loads exactly the requested days; a day beyond retention is refused."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from include.simulator import Simulator
from tests.dags.pipeline_harness import configure_pipeline, load_dag

AIRFLOW = str(Path(sys.executable).with_name("airflow"))


def _airflow(*args: str) -> str:
    out = subprocess.run([AIRFLOW, *args], capture_output=True, text=True, env=os.environ.copy(), check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


@pytest.mark.usefixtures("airflow_db")
def test_a_three_day_backfill_loads_three_days(
    simulator: Simulator, pg_dsn: str, warehouse_roles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_pipeline(monkeypatch, simulator, pg_dsn, tmp_path, warehouse_roles, products="SMS")
    _airflow("dags", "reserialize")
    plan = _airflow(
        "backfill", "create", "--dag-id", "vonage_cdr_daily",
        "--from-date", "2026-11-14", "--to-date", "2026-11-16", "--dry-run",
    )  # fmt: skip
    logical_dates = sorted(set(re.findall(r"(\d{4}-\d{2}-\d{2}) 00:00:00\+00:00", plan)))
    assert logical_dates == ["2026-11-14", "2026-11-15", "2026-11-16"]

    dag = load_dag("vonage_cdr_daily.py")
    for day in logical_dates:  # what the scheduler executes for each backfill run
        run = dag.test(logical_date=datetime.fromisoformat(day).replace(tzinfo=UTC))
        assert str(getattr(run.state, "value", run.state)) == "success"
    with psycopg.connect(pg_dsn) as conn:
        windows = conn.execute(
            "SELECT window_start::date, count(*) FROM cdr.load_ledger GROUP BY 1 ORDER BY 1"
        ).fetchall()
        days_loaded = conn.execute("SELECT DISTINCT event_time::date FROM cdr.sms ORDER BY 1").fetchall()
    assert windows == [(date(2026, 11, d), 2) for d in (14, 15, 16)]  # inbound and outbound
    assert [d for (d,) in days_loaded] == [date(2026, 11, d) for d in (14, 15, 16)]


@pytest.mark.usefixtures("airflow_db")
def test_a_day_beyond_retention_fails_with_the_retention_message(
    simulator: Simulator,
    pg_dsn: str,
    warehouse_roles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_pipeline(monkeypatch, simulator, pg_dsn, tmp_path, warehouse_roles, products="SMS,VIDEO-API")
    # Retention is counted on Vonage's clock (the simulator's), whatever this machine's date is.
    too_old = simulator.clock.now().date() - timedelta(days=120)  # fine for SMS (13 months), not VIDEO-API
    run = load_dag("vonage_cdr_daily.py").test(run_conf={"day": too_old.isoformat()})
    assert str(getattr(run.state, "value", run.state)) == "failed"
    output = "".join(capfd.readouterr())
    assert f"VIDEO-API {too_old.isoformat()} (retention 90 days" in output
    assert simulator.reports_created == [], "no report may be requested (and billed) for a refused day"

"""The day a daily run loads, decided inside Airflow from the run it is (dag.test, only `plan` runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from include.simulator import Simulator
from tests.dags.pipeline_harness import configure_pipeline, load_dag

# Everything after `plan` is marked successful without running: no report is requested.
AFTER_PLAN = r"^(prepare_warehouse|wait_for_settlement|request_report|load_partition|publish_.*)$"


def _plan(**kwargs) -> str:
    run = load_dag("vonage_cdr_daily.py").test(mark_success_pattern=AFTER_PLAN, **kwargs)
    return str(getattr(run.state, "value", run.state))


@pytest.mark.usefixtures("airflow_db")
def test_the_trigger_forms_default_loads_the_last_settled_day_and_a_future_day_fails(
    simulator: Simulator,
    pg_dsn: str,
    warehouse_roles,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    configure_pipeline(monkeypatch, simulator, pg_dsn, tmp_path, warehouse_roles, products="SMS")
    monkeypatch.setenv("CDR_SETTLEMENT_DELAY_HOURS", "2")
    now = datetime.now(UTC)
    # The UI's Trigger form, left as it is: the logical date is the moment of the click.
    assert _plan(logical_date=now, run_after=now) == "success"
    settled = ((now - timedelta(hours=2)).date() - timedelta(days=1)).isoformat()
    assert f"loading {settled}, the last settled day" in "".join(capfd.readouterr())

    tomorrow = (now + timedelta(days=1)).date().isoformat()
    assert _plan(logical_date=now, run_after=now, run_conf={"day": tomorrow}) == "failed"
    output = "".join(capfd.readouterr())
    assert f"day {tomorrow} has not ended yet" in output
    assert simulator.reports_created == []

"""The day a daily run loads, decided inside Airflow from the run it is (dag.test, only `plan` runs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from include.simulator import Simulator
from tests.dags.pipeline_harness import configure_pipeline, load_dag

# Everything after `plan` is marked successful without running: no report is requested.
AFTER_PLAN = r"^(prepare_warehouse|wait_for_settlement|request_report|load_partition|publish_.*)$"


def _plan(**kwargs: Any) -> tuple[str, list[dict[str, Any]] | None]:
    """Run the daily DAG's `plan` task; return the run's state and the partitions it planned."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    run = load_dag("vonage_cdr_daily.py").test(mark_success_pattern=AFTER_PLAN, **kwargs)
    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(run_id=run.run_id, dag_ids=run.dag_id, task_ids="plan", key="return_value")
        ).first()
        planned = XComModel.deserialize_value(row) if row is not None else None
    return str(getattr(run.state, "value", run.state)), planned


@pytest.mark.usefixtures("airflow_db")
def test_the_trigger_forms_default_loads_the_last_settled_day_and_a_future_day_fails(
    simulator: Simulator, pg_dsn: str, warehouse_roles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_pipeline(monkeypatch, simulator, pg_dsn, tmp_path, warehouse_roles, products="SMS")
    monkeypatch.setenv("CDR_SETTLEMENT_DELAY_HOURS", "2")
    now = datetime.now(UTC)
    # The UI's Trigger form, left as it is: the logical date is the moment of the click.
    state, planned = _plan(logical_date=now, run_after=now)
    settled = (now - timedelta(hours=2)).date() - timedelta(days=1)
    assert state == "success"
    assert planned and {p["date_start"][:10] for p in planned} == {settled.isoformat()}

    tomorrow = (now + timedelta(days=1)).date().isoformat()
    state, planned = _plan(logical_date=now, run_after=now, run_conf={"day": tomorrow})
    assert (state, planned) == ("failed", None), "a day that has not ended is never planned"
    assert simulator.reports_created == []

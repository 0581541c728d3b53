"""VonageAsyncReportOperator in a real DAG run (dag.test(), trigger inline) against the simulator.

The DAGs live here, not in dags/. Airflow 3.3's dag.test() only runs DAGs it can find in a DAG bundle, so
the `dags_folder` fixture points the dags-folder bundle at a temporary folder whose one file imports
``DAGS`` from this module. The connection comes from AIRFLOW_CONN_VONAGE_DEFAULT (JSON).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from airflow.sdk import DAG

from include.simulator import FaultConfig, SimClock, SimulatorConfig
from tests.fixtures.simulator import SIM_START
from vonage_reports.operators import VonageAsyncReportOperator

EXPECTED_KEYS = {"request_id", "request_status", "items_count", "download_url", "product", "account_id",
                 "date_start", "date_end", "direction"}  # fmt: skip


def set_connection(monkeypatch, sim, **extra) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VONAGE_DEFAULT",
        json.dumps(
            {
                "conn_type": "http",
                "host": sim.base_url,
                "login": sim.api_key,
                "password": sim.api_secret,
                "extra": {"read_timeout": 5, "backoff_initial": 0.05, "backoff_max": 0.2, **extra},
            }
        ),
    )


def report_dag(dag_id: str, direction: str = "outbound", **op_kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=datetime(2026, 11, 1, tzinfo=UTC), catchup=False,
             params={"day": "2026-11-19"}) as dag:  # fmt: skip
        VonageAsyncReportOperator(
            task_id="report",
            product="SMS",
            direction=direction,
            date_start="{{ params.day }}",
            date_end="{{ macros.ds_add(params.day, 1) }}",
            filters={"status": "delivered"},
            poll_interval=0.3,
            initial_delay=0.2,
            **op_kwargs,
        )
    return dag


DAGS = {
    dag.dag_id: dag
    for dag in (
        report_dag("vonage_report_ok"),
        report_dag("vonage_report_rerun"),
        report_dag("vonage_report_failed"),
        report_dag("vonage_report_truncated"),
        report_dag("vonage_report_truncated_ok", fail_on_truncated=False),
        report_dag("vonage_report_deadline", deadline=1.0),
        report_dag("vonage_report_secret"),
        report_dag("vonage_report_secret_fail", direction="inbound"),
    )
}


@pytest.fixture
def dags_folder(airflow_db, tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("glue_dags")
    (folder / "vonage_glue_dags.py").write_text(
        "# airflow DAG loader for tests: the DAGs are defined in the test module\n"
        "from tests.airflow_glue.test_operator_dag import DAGS\n"
        "globals().update(DAGS)\n"
    )
    from airflow import settings

    monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))  # the dags-folder bundle reads this
    return folder


def run(dag: DAG, when: datetime):
    dr = dag.test(logical_date=when)
    return dr, {ti.task_id: ti for ti in dr.get_task_instances()}


def xcom_of(dr, task_id: str):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.scalars(
            XComModel.get_many(run_id=dr.run_id, dag_ids=dr.dag_id, task_ids=task_id)
        ).all()
        return {row.key: XComModel.deserialize_value(row) for row in rows}


def rendered_fields_of(ti) -> dict:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields

    return RenderedTaskInstanceFields.get_templated_fields(ti) or {}


def test_operator_defers_and_returns_a_small_summary(dags_folder, simulator, monkeypatch) -> None:
    set_connection(monkeypatch, simulator)
    dr, tis = run(DAGS["vonage_report_ok"], datetime(2026, 11, 20, tzinfo=UTC))
    assert tis["report"].state == "success", tis["report"].state
    value = xcom_of(dr, "report")["return_value"]
    assert set(value) == EXPECTED_KEYS
    assert value["request_status"] == "SUCCESS"
    assert value["date_start"] == "2026-11-19T00:00:00Z" and value["date_end"] == "2026-11-20T00:00:00Z"
    day = datetime(2026, 11, 19).date()
    truth = simulator.ground_truth(simulator.api_key, "SMS", day, direction="outbound", as_of=SIM_START)
    truth = [r for r in truth if r["status"] == "delivered"]
    assert value["items_count"] == len(truth) > 0
    assert len(simulator.reports_created) == 1
    # the worker checked the status once before deferring; the trigger polled until it was final
    polls = [e for e in simulator.request_log if e == ("GET", f"/v2/reports/{value['request_id']}", 200)]
    assert len(polls) >= 2


def test_rerun_after_a_failed_try_reuses_the_report(dags_folder, simulator, monkeypatch) -> None:
    """A try that created the report and then died must not make the next try pay for a second one."""
    set_connection(monkeypatch, simulator, max_attempts=2)
    dag = DAGS["vonage_report_rerun"]
    # status calls fail: the first try creates the report, then cannot check it and fails
    simulator.set_faults(FaultConfig(error_rate=1.0, paths=("/v2/reports/",)))
    _, tis = run(dag, datetime(2026, 11, 20, tzinfo=UTC))
    assert tis["report"].state == "failed"
    assert len(simulator.reports_created) == 1

    simulator.set_faults(FaultConfig())
    dr, tis = run(dag, datetime(2026, 11, 21, tzinfo=UTC))
    assert tis["report"].state == "success"
    assert len(simulator.reports_created) == 1  # reused, not re-created
    assert xcom_of(dr, "report")["return_value"]["request_id"] == simulator.reports_created[0]["request_id"]


def test_failed_report_fails_the_task_and_the_next_try_makes_a_new_one(
    dags_folder, simulator, monkeypatch
) -> None:
    set_connection(monkeypatch, simulator)
    dag = DAGS["vonage_report_failed"]
    simulator.set_faults(FaultConfig(failed_report_rate=1.0))
    _, tis = run(dag, datetime(2026, 11, 20, tzinfo=UTC))
    assert tis["report"].state == "failed"
    simulator.set_faults(FaultConfig())
    _, tis = run(dag, datetime(2026, 11, 21, tzinfo=UTC))
    assert tis["report"].state == "success"
    assert len(simulator.reports_created) == 2  # FAILED reports are never reused


def test_truncated_report_fails_unless_allowed(dags_folder, simulator_factory, monkeypatch) -> None:
    sim = simulator_factory(SimulatorConfig(clock=SimClock(start=SIM_START), async_max_records=5))
    set_connection(monkeypatch, sim)
    _, tis = run(DAGS["vonage_report_truncated"], datetime(2026, 11, 20, tzinfo=UTC))
    assert tis["report"].state == "failed"
    dr, tis = run(DAGS["vonage_report_truncated_ok"], datetime(2026, 11, 20, tzinfo=UTC))
    assert tis["report"].state == "success"
    assert xcom_of(dr, "report")["return_value"]["request_status"] == "TRUNCATED"
    assert len(sim.reports_created) == 1  # the second DAG reused the TRUNCATED report


def test_deadline_cancels_the_report_and_fails_the_task(dags_folder, simulator_factory, monkeypatch) -> None:
    sim = simulator_factory(SimulatorConfig(clock=SimClock(start=SIM_START), pending_seconds=3600))
    set_connection(monkeypatch, sim)
    _, tis = run(DAGS["vonage_report_deadline"], datetime(2026, 11, 20, tzinfo=UTC))
    assert tis["report"].state == "failed"
    rid = sim.reports_created[0]["request_id"]
    assert ("DELETE", f"/v2/reports/{rid}", 200) in sim.request_log


def test_secret_never_reaches_logs_xcom_or_rendered_fields(
    dags_folder, simulator, monkeypatch, caplog, capfd
) -> None:
    secret = simulator.api_secret
    set_connection(monkeypatch, simulator)
    with caplog.at_level("DEBUG"):
        dr, tis = run(DAGS["vonage_report_secret"], datetime(2026, 11, 20, tzinfo=UTC))
    # a failing run too: its exception texts are logged
    simulator.set_faults(FaultConfig(failed_report_rate=1.0))
    with caplog.at_level("DEBUG"):
        _, failed = run(DAGS["vonage_report_secret_fail"], datetime(2026, 11, 20, tzinfo=UTC))
    out, err = capfd.readouterr()
    assert tis["report"].state == "success" and failed["report"].state == "failed"
    assert "ReportFailed" in out + err + caplog.text  # the failure was logged, so logs were captured
    assert simulator.api_key in out + err + caplog.text
    assert secret not in caplog.text
    assert secret not in out and secret not in err
    assert secret not in json.dumps(xcom_of(dr, "report"), default=str)
    rendered = rendered_fields_of(tis["report"])
    assert rendered.get("date_start") == "2026-11-19"
    assert secret not in json.dumps(rendered, default=str)

"""Glue decisions: credentials fail at once and name the connection; paths are checked before use; the
operator records each report's id in the warehouse before deferring and a later try reuses it."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from include.simulator import FaultConfig
from include.vonage_cdr.settings import Settings
from include.vonage_cdr.warehouse.migrate import discover
from tests.airflow_glue.test_operator_paths import operator
from tests.airflow_glue.test_trigger import connect
from tests.fixtures.warehouse import MigratedWarehouse
from vonage_reports import pipeline_tasks
from vonage_reports.hooks import VonageReportsHook

WRONG = "definitely-wrong-secret-0815"


def bad_secret(monkeypatch, sim) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_VONAGE_DEFAULT",
        json.dumps({"conn_type": "http", "host": sim.base_url, "login": sim.api_key, "password": WRONG}),
    )


def warehouse_conn(monkeypatch, dsn: str, conn_id: str = "cdr_warehouse") -> None:
    params = psycopg.conninfo.conninfo_to_dict(dsn)
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": params["host"],
                "port": int(params["port"]),
                "login": params["user"],
                "schema": params["dbname"],
            }
        ),
    )


def context(try_number: int = 1) -> dict:
    ti = SimpleNamespace(dag_id="d", run_id="r", task_id="request_report", try_number=try_number)
    return {"ti": ti}


# -- credentials -------------------------------------------------------------------------------------
def test_a_rejected_secret_fails_at_once_naming_the_connection(simulator, monkeypatch) -> None:
    bad_secret(monkeypatch, simulator)
    with pytest.raises(AirflowFailException, match="connection 'vonage_default'") as info:
        operator().execute(context())
    assert WRONG not in str(info.value)
    assert "login (API key) and password (API secret)" in str(info.value)
    assert [s for _, _, s in simulator.request_log] == [401]  # one call, no client retries
    assert simulator.reports_created == []


def test_a_refused_account_fails_at_once(simulator, monkeypatch) -> None:
    connect(monkeypatch, simulator)
    with pytest.raises(AirflowFailException, match="refused access") as info:
        operator(account_id="not-my-account").execute(context())
    assert "account id" in str(info.value)
    assert [s for _, _, s in simulator.request_log] == [403]


def test_a_credential_error_from_the_trigger_fails_without_retry(simulator, monkeypatch) -> None:
    connect(monkeypatch, simulator)
    event = {"status": "error", "request_id": "r1", "error": "AuthenticationError", "message": "HTTP 401"}
    with pytest.raises(AirflowFailException, match="vonage_default"):
        operator().execute_complete(context(), event)


def test_a_rate_limit_403_is_not_a_credential_error(simulator, monkeypatch) -> None:
    """A 403 whose body says rate limit is retried by the client, never turned into a hard failure."""
    connect(monkeypatch, simulator, backoff_initial=0.05, backoff_max=0.2)
    simulator.set_faults(FaultConfig(rate_limit_status=403, rate_limit_async_rps=1, retry_after_seconds=0))
    try:
        result = operator(deadline=600).execute(context())
    except TaskDeferred:  # still running: handed to the trigger
        result = None
    assert result is None or result["request_status"] == "SUCCESS"
    assert 403 in [s for _, _, s in simulator.request_log]


# -- values that end up in paths -----------------------------------------------------------------------
def test_a_connection_account_id_that_escapes_a_directory_is_refused(simulator, monkeypatch) -> None:
    connect(monkeypatch, simulator, account_id="abcd1234/../../tmp")
    with pytest.raises(ValueError, match="connection 'vonage_default'"):
        _ = VonageReportsHook().account_id
    with pytest.raises(AirflowFailException, match="not a plain Vonage account id"):
        pipeline_tasks.configured_accounts(Settings())


def test_a_report_account_id_is_checked_before_any_directory_is_created(
    simulator, monkeypatch, tmp_path: Path
) -> None:
    connect(monkeypatch, simulator)
    work = tmp_path / "lake" / "work"
    settings = Settings(work_dir=work, lake_root=tmp_path / "lake" / "root")
    report = {"product": "SMS", "account_id": "abcd1234/..", "request_id": "r1",
              "date_start": "2026-11-19T00:00:00Z", "date_end": "2026-11-20T00:00:00Z"}  # fmt: skip
    with pytest.raises(AirflowFailException, match=r"account id 'abcd1234/\.\.'"):
        pipeline_tasks.load_partition(report, context(), settings)
    assert not (tmp_path / "lake").exists(), "nothing may be created before the check"
    assert simulator.request_log == []


# -- durable report identity ---------------------------------------------------------------------------
def test_the_report_id_is_recorded_before_deferring_and_a_retry_reuses_it_without_the_list(
    simulator, monkeypatch, migrated_warehouse: MigratedWarehouse
) -> None:
    connect(monkeypatch, simulator)
    warehouse_conn(monkeypatch, migrated_warehouse.dsn)
    with pytest.raises(TaskDeferred) as first:
        operator(deadline=600, report_registry_conn_id="cdr_warehouse").execute(context(1))
    request_id = first.value.trigger.request_id
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        rows = conn.execute(
            "SELECT request_id, product, direction, found_by, try_number, request_params->>'product' "
            "FROM cdr.report_requests"
        ).fetchall()
    assert rows == [(request_id, "SMS", "outbound", "created", 1, "SMS")]

    # the try died (worker lost); the retry runs while the list endpoint is down
    simulator.set_faults(FaultConfig(list_reports_status=404))
    with pytest.raises(TaskDeferred) as retry:
        operator(deadline=600, report_registry_conn_id="cdr_warehouse").execute(context(2))
    assert retry.value.trigger.request_id == request_id
    assert len(simulator.reports_created) == 1
    assert not any((m, p) == ("GET", "/v2/reports") for m, p, _ in simulator.request_log[-3:])


def test_a_recorded_report_past_the_reuse_window_is_not_reused(
    simulator, monkeypatch, migrated_warehouse: MigratedWarehouse
) -> None:
    connect(monkeypatch, simulator)
    warehouse_conn(monkeypatch, migrated_warehouse.dsn)
    with pytest.raises(TaskDeferred):
        operator(deadline=600, report_registry_conn_id="cdr_warehouse").execute(context(1))
    simulator.clock.advance(timedelta(hours=21))  # on Vonage's clock, past the 20 h reuse window
    with pytest.raises(TaskDeferred):
        operator(deadline=600, report_registry_conn_id="cdr_warehouse").execute(context(1))
    assert len(simulator.reports_created) == 2
    with psycopg.connect(migrated_warehouse.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM cdr.report_requests").fetchone() == (2,)


# -- who applies migrations ------------------------------------------------------------------------------
def test_prepare_uses_the_admin_connection_and_a_runtime_login_only_checks(
    monkeypatch, pg_dsn: str, warehouse_roles, loader_login: str
) -> None:
    roles = {
        "owner_role": warehouse_roles.owner,
        "loader_role": warehouse_roles.loader,
        "analyst_role": warehouse_roles.analyst,
    }
    settings = Settings(**roles)
    warehouse_conn(monkeypatch, loader_login)  # the runtime login: member of the loader role only
    with pytest.raises(AirflowFailException, match="make migrate"):
        pipeline_tasks.prepare_warehouse(settings)
    warehouse_conn(monkeypatch, pg_dsn, "cdr_warehouse_admin")
    applied = pipeline_tasks.prepare_warehouse(settings)
    assert "0006" in applied and applied[-1] == discover()[-1].version
    monkeypatch.delenv("AIRFLOW_CONN_CDR_WAREHOUSE_ADMIN")
    assert pipeline_tasks.prepare_warehouse(settings) == []  # nothing pending: the runtime login suffices

"""Operator decisions called directly: no deferral when already final, expired -> new report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from airflow.sdk.exceptions import TaskDeferred

from include.vonage_cdr.client import ReportExpired
from tests.airflow_glue.test_trigger import DAY, connect, create
from tests.client.conftest import wait_terminal
from vonage_reports.operators import VonageAsyncReportOperator
from vonage_reports.triggers import VonageReportTrigger


def operator(**kwargs) -> VonageAsyncReportOperator:
    return VonageAsyncReportOperator(
        task_id="report",
        product="SMS",
        direction="outbound",
        date_start=DAY.isoformat(),
        date_end=(DAY + timedelta(days=1)).isoformat(),
        poll_interval=0.2,
        initial_delay=0.1,
        **kwargs,
    )


def test_already_final_report_is_returned_without_deferring(simulator, monkeypatch) -> None:
    connect(monkeypatch, simulator)
    from include.vonage_cdr.client import ReportsClient

    request_id = create(simulator)
    with ReportsClient(simulator.base_url, simulator.api_key, simulator.api_secret) as client:
        wait_terminal(client, request_id)
    result = operator().execute({})  # would raise TaskDeferred if it deferred
    assert result["request_id"] == request_id and result["request_status"] == "SUCCESS"
    assert len(simulator.reports_created) == 1


def test_new_report_is_deferred_to_the_trigger(simulator, monkeypatch) -> None:
    connect(monkeypatch, simulator)
    with pytest.raises(TaskDeferred) as info:
        operator(deadline=600).execute({})
    trigger = info.value.trigger
    assert isinstance(trigger, VonageReportTrigger)
    assert trigger.request_id == simulator.reports_created[0]["request_id"]
    assert trigger.deadline is not None and trigger.initial_delay == 0.1


def test_expired_event_creates_a_new_report_a_bounded_number_of_times(simulator, monkeypatch) -> None:
    connect(monkeypatch, simulator)
    gone = create(simulator)
    op = operator(max_recreate=1)
    with pytest.raises(TaskDeferred) as info:
        op.execute_complete({}, {"status": "expired", "request_id": gone}, recreated=0)
    replacement = info.value.trigger.request_id
    assert replacement != gone and len(simulator.reports_created) == 2
    assert info.value.kwargs["recreated"] == 1
    with pytest.raises(ReportExpired, match="giving up"):
        op.execute_complete({}, {"status": "expired", "request_id": replacement}, recreated=1)
    assert len(simulator.reports_created) == 2


def test_non_deferrable_mode_polls_on_the_worker(simulator, monkeypatch) -> None:
    connect(monkeypatch, simulator)
    result = operator(deferrable=False).execute({})
    assert result["request_status"] == "SUCCESS" and result["items_count"] > 0

"""A small client of Airflow 3's public REST API, as an operator's script would use it.

It logs in through the simple auth manager's token endpoint (``POST /auth/token``) and polls states
with generous timeouts: on a loaded 2-core machine a scheduler loop can take many seconds, so every
wait is "until this state, or fail after minutes", never a sleep tuned to speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests

T = TypeVar("T")
TERMINAL_RUN_STATES = {"success", "failed"}


class AirflowApi:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> AirflowApi:
        body = {"username": username, "password": password}
        resp = requests.post(f"{base_url.rstrip('/')}/auth/token", json=body, timeout=60)
        resp.raise_for_status()
        return cls(base_url, resp.json()["access_token"])

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=60, **kwargs)
        if resp.status_code >= 400:
            raise AssertionError(f"{method} {path} -> {resp.status_code}: {resp.text[:2000]}")
        return resp.json() if resp.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    # -- DAGs and runs ------------------------------------------------------------------------------
    def dag_parsed(self, dag_id: str) -> bool:
        resp = self.session.get(f"{self.base_url}/api/v2/dags/{dag_id}", timeout=60)
        return resp.status_code == 200

    def unpause(self, dag_id: str) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def trigger(self, dag_id: str, *, logical_date: str | None, conf: dict | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"logical_date": logical_date}
        if conf is not None:
            body["conf"] = conf
        return self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}")

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=1000)["task_instances"]

    def wait_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        return wait_for(
            lambda: (run := self.run(dag_id, run_id))["state"] in TERMINAL_RUN_STATES and run,
            timeout,
            f"{dag_id} run {run_id} to finish",
        )

    # -- pools, health, assets ----------------------------------------------------------------------
    def pool(self, name: str) -> dict[str, Any]:
        return self.get(f"/pools/{name}")

    def scheduler_heartbeat(self) -> str | None:
        return (self.get("/monitor/health").get("scheduler") or {}).get("latest_scheduler_heartbeat")

    def wait_scheduler_loops(self, count: int, timeout: float) -> None:
        """Until the scheduler has heartbeaten ``count`` more times (it schedules between heartbeats)."""
        seen = {self.scheduler_heartbeat()}
        wait_for(
            lambda: seen.add(self.scheduler_heartbeat()) or len(seen) > count,
            timeout,
            f"{count} scheduler heartbeats",
        )

    def asset_events(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get("/assets/events", limit=1000, **filters)["asset_events"]


def wait_for(probe: Callable[[], T], timeout: float, what: str, interval: float = 2.0) -> T:
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")

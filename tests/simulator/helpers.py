"""Small HTTP helpers shared by the simulator tests."""

from __future__ import annotations

import io
import time
import zipfile
from typing import Any

import requests

from include.simulator import Simulator

DAY_START = "2026-11-19T00:00:00Z"
DAY_END = "2026-11-20T00:00:00Z"


def auth(sim: Simulator) -> tuple[str, str]:
    return (sim.api_key, sim.api_secret)


def get(sim: Simulator, path: str, **params: Any) -> requests.Response:
    return requests.get(sim.base_url + path, params=params, auth=auth(sim), timeout=30)


def records(sim: Simulator, **params: Any) -> requests.Response:
    params.setdefault("account_id", sim.api_key)
    return get(sim, "/v2/reports/records", **params)


def create(sim: Simulator, **body: Any) -> requests.Response:
    body.setdefault("account_id", sim.api_key)
    return requests.post(sim.base_url + "/v2/reports", json=body, auth=auth(sim), timeout=30)


def wait_terminal(sim: Simulator, report_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = get(sim, f"/v2/reports/{report_id}")
        if resp.status_code == 200 and resp.json()["request_status"] not in ("PENDING", "PROCESSING"):
            return resp.json()
        time.sleep(0.25)
    raise AssertionError(f"report {report_id} did not finish in {timeout}s")


def download_zip(sim: Simulator, href: str) -> tuple[requests.Response, zipfile.ZipFile]:
    resp = requests.get(href, auth=auth(sim), timeout=60)
    assert resp.status_code == 200, resp.text
    return resp, zipfile.ZipFile(io.BytesIO(resp.content))

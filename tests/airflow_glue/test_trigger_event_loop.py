"""The report trigger never blocks the triggerer's event loop, which every trigger of the deployment shares.

Measured stalls depend on the machine; what causes them does not. A fresh interpreter, prepared like a
triggerer (Airflow's trigger base, the task SDK and the secrets backends loaded), imports the trigger
module inside a running event loop, as the triggerer does, and runs a trigger until the simulator's
report is final. An audit hook records what happens on the loop's own thread: loading a module there
(aiohttp alone takes about a second, several on a busy machine), a DNS lookup, opening a file. None may.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from include.simulator import Simulator
from include.vonage_cdr.client import ReportRequest, ReportsClient

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import asyncio, importlib, json, sys, threading

import airflow.sdk
import airflow.triggers.base
from airflow.sdk.execution_time.supervisor import ensure_secrets_backend_loaded

ensure_secrets_backend_loaded()
loop_thread = threading.get_ident()
seen = []


def on_event(event, args):
    if threading.get_ident() != loop_thread or not recording:
        return
    if event == "import":
        seen.append(["import", args[0]])
    elif event == "socket.getaddrinfo":
        seen.append(["dns", str(args[0])])
    elif event == "open" and isinstance(args[0], str) and not args[0].startswith("/proc/"):
        seen.append(["open", args[0]])


recording = False
sys.addaudithook(on_event)


async def main():
    global recording
    recording = True
    module = importlib.import_module("vonage_reports.triggers")  # the triggerer imports it in the loop
    recording = False
    imported_with_module = list(seen)
    seen.clear()
    trigger = module.VonageReportTrigger(sys.argv[1], poll_interval=0.2, initial_delay=0.1)
    recording = True
    async for event in trigger.run():
        recording = False
        return imported_with_module, event.payload


imported_with_module, payload = asyncio.run(main())
print(json.dumps({"module_import": imported_with_module, "run": seen, "payload": payload}))
"""

# What importing the trigger module may do in the loop: load itself (and its package), nothing else.
OWN = {"vonage_reports", "vonage_reports.triggers"}
OWN_FILES = ("vonage_reports/__init__", "vonage_reports/triggers", "vonage_reports/__pycache__/")


def test_the_trigger_does_no_blocking_work_in_the_event_loop(simulator: Simulator) -> None:
    day = datetime(2026, 11, 19, tzinfo=UTC)
    with ReportsClient(simulator.base_url, simulator.api_key, simulator.api_secret) as client:
        req = ReportRequest("SMS", simulator.api_key, day, day + timedelta(days=1), direction="outbound")
        request_id = client.create_report(req).request_id
    conn = {
        "conn_type": "http",
        "host": simulator.base_url,
        "login": simulator.api_key,
        "password": simulator.api_secret,
    }
    env = {**os.environ, "AIRFLOW_CONN_VONAGE_DEFAULT": json.dumps(conn)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, request_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["payload"]["status"] == "done", result["payload"]
    extra = [
        [kind, name]
        for kind, name in result["module_import"]
        if not (kind == "import" and name in OWN)
        and not (kind == "open" and any(part in name for part in OWN_FILES))
    ]
    assert extra == [], f"importing the trigger module does this in the event loop: {extra}"
    assert result["run"] == [], f"blocking work on the event loop's thread while polling: {result['run']}"

"""The local set-up's Airflow settings: which wins, what reaches airflow.cfg, what `make airflow-cli` runs.

Cheap checks of the functions ``make airflow`` and ``make airflow-cli`` share; the real start-up is
tests/devtools/test_make_airflow.py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from include.devtools.airflow_local import (
    PROTECTED_SETTINGS,
    ROOT,
    AirflowComponents,
    ErrorEcho,
    StateLayout,
    airflow_env,
    caller_overrides,
    resolve_port,
    write_airflow_cfg,
)

SIM = "http://127.0.0.1:9"
DSN = "host=127.0.0.1 port=5 dbname=cdr_warehouse user=postgres"


@pytest.fixture
def layout() -> Iterator[StateLayout]:
    path = Path(tempfile.mkdtemp(prefix="cdr-airflow-local-"))
    yield StateLayout(path).create()
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def test_the_execution_api_url_follows_the_port(layout: StateLayout) -> None:
    env = airflow_env(layout, SIM, DSN, port=18080, environ={})
    assert env["AIRFLOW__API__PORT"] == "18080"
    assert env["AIRFLOW__API__HOST"] == "127.0.0.1"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:18080/execution/"
    assert env["AIRFLOW__LOGGING__NAMESPACE_LEVELS"] == "http.access=WARNING"  # no access log lines


def test_exported_airflow_settings_are_honoured_except_the_ones_the_set_up_owns(layout: StateLayout) -> None:
    caller = {
        "PATH": os.environ["PATH"],
        "AIRFLOW__CORE__PARALLELISM": "3",
        "AIRFLOW__API__HOST": "0.0.0.0",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://prod-db/airflow",
        "AIRFLOW_CONN_VONAGE_DEFAULT": '{"host": "https://api.nexmo.com"}',
        "AIRFLOW_HOME": "/somewhere/else",
        "AIRFLOW_VAR_REGION": "eu",
    }
    honoured, ignored = caller_overrides(caller)
    assert set(honoured) == {"AIRFLOW__CORE__PARALLELISM", "AIRFLOW__API__HOST", "AIRFLOW_VAR_REGION"}
    assert set(ignored) == set(caller) - set(honoured) - {"PATH"}
    assert set(ignored) <= PROTECTED_SETTINGS

    env = airflow_env(layout, SIM, DSN, port=resolve_port(None, caller), environ=caller)
    assert env["AIRFLOW__CORE__PARALLELISM"] == "3" and env["AIRFLOW_VAR_REGION"] == "eu"
    assert env["AIRFLOW__API__HOST"] == "0.0.0.0"  # the caller chose to expose it
    # ... and the workers still reach the Execution API over loopback
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8080/execution/"
    assert env["AIRFLOW_HOME"] == str(layout.airflow_home)
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("sqlite:///")
    assert "api.nexmo.com" not in env["AIRFLOW_CONN_VONAGE_DEFAULT"]


def test_an_exported_port_and_execution_url_win(layout: StateLayout) -> None:
    caller = {"AIRFLOW__API__PORT": "9191"}
    assert resolve_port(None, caller) == 9191
    assert resolve_port(18080, caller) == 18080  # --port wins
    env = airflow_env(layout, SIM, DSN, port=resolve_port(None, caller), environ=caller)
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:9191/execution/"
    caller["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] = "http://apiserver.internal:8080/execution/"
    env = airflow_env(layout, SIM, DSN, port=9191, environ=caller)
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://apiserver.internal:8080/execution/"


def test_airflow_cfg_gets_the_local_settings_and_keeps_generated_secrets(layout: StateLayout) -> None:
    cfg = layout.airflow_home / "airflow.cfg"
    cfg.write_text("[core]\nload_examples = True\ndags_folder = ~/airflow/dags\nfernet_key = keep-me\n")
    write_airflow_cfg(layout, airflow_env(layout, SIM, DSN, port=18080, environ={}))
    text = cfg.read_text()
    assert "load_examples = False" in text
    assert f"dags_folder = {ROOT / 'dags'}" in text
    assert "fernet_key = keep-me" in text
    assert "execution_api_server_url = http://127.0.0.1:18080/execution/" in text
    assert "jwt_secret = " in text  # one signing secret for every component
    first_secret = [ln for ln in text.splitlines() if ln.startswith("jwt_secret")]
    write_airflow_cfg(layout, airflow_env(layout, SIM, DSN, port=18080, environ={}))
    assert [ln for ln in cfg.read_text().splitlines() if ln.startswith("jwt_secret")] == first_secret
    assert oct(cfg.stat().st_mode & 0o777) == "0o600"


def test_airflow_cli_runs_airflow_on_the_local_set_up(layout: StateLayout) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}

    def cli(*args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "include.devtools.airflow_cli", "--state-dir", str(layout.root), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        return out.stdout.strip()

    assert cli("config", "get-value", "core", "load_examples") == "False"
    assert cli("config", "get-value", "core", "dags_folder") == str(ROOT / "dags")
    # A plain `airflow` with only AIRFLOW_HOME pointing there sees the same (the cfg was written).
    plain = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "config", "get-value", "core", "load_examples"],
        env={**env, "AIRFLOW_HOME": str(layout.airflow_home)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert plain.stdout.strip() == "False", plain.stderr[-2000:]


def test_component_errors_are_echoed_to_the_console(layout: StateLayout) -> None:
    components = AirflowComponents(layout, {})
    components.log_dir.mkdir(parents=True, exist_ok=True)
    scheduler = components.log_path("scheduler")
    scheduler.write_text("old [error    ] before the echo started\n")
    out = io.StringIO()
    echo = ErrorEcho(components, out=out)  # from the current end of each log on
    echo.start()
    try:
        with scheduler.open("a") as fh:
            fh.write("2026-11-30T10:00:00Z [info     ] Uvicorn running [uvicorn.error]\n")
            fh.write("2026-11-30T10:00:01Z [error    ] Task failed: cannot reach the Execution API\n")
        deadline = time.monotonic() + 60
        while "Execution API" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        echo.stopped.set()
        echo.join(10)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("  scheduler: ") and "cannot reach the Execution API" in lines[0]
    assert str(scheduler) in lines[0]

"""`make airflow` as a user runs it: quiet, on 127.0.0.1 only, the login printed last, Ctrl-C stops all.

The command runs in a subprocess on a non-default port with a state dir of its own, and with two
exported Airflow settings: one it honours (parallelism) and one it must ignore (another metadata DB).
Minutes on a 2-core machine: marked ``slow`` and ``real_airflow`` (``make test-airflow``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from include.devtools.local_postgres import free_port
from tests.devtools.test_demo import _processes_mentioning

pytestmark = [pytest.mark.slow, pytest.mark.real_airflow, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as the kernel lists them) with a socket listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                    found.append(address)
    return found


def test_make_airflow_is_quiet_local_only_and_prints_the_login_last() -> None:
    state = Path(tempfile.mkdtemp(prefix="cdr-make-airflow-"))
    state.chmod(0o755)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CDR_")) and k != "PYTHONPATH"}
    env["AIRFLOW__CORE__PARALLELISM"] = "6"
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = "postgresql://someone-elses-airflow/airflow"
    argv = [sys.executable, "-m", "include.devtools.airflow_local", "--state-dir", str(state)]
    proc = subprocess.Popen(
        [*argv, "--port", str(port), "--records-per-day", "50"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(line.rstrip("\n") for line in stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 900
        while not any(line.startswith("Log in as:") for line in lines):
            assert proc.poll() is None, "\n".join(lines)
            assert time.monotonic() < deadline, "\n".join(lines)
            time.sleep(1)
        banner = list(lines)
        output = "\n".join(banner)
        # the UI address and the login are the last lines, and the console is short
        assert banner[-2] == f"Airflow UI: http://127.0.0.1:{port}   (this machine only)", output
        passwords = state / "airflow" / "simple_auth_manager_passwords.json.generated"
        password = json.loads(passwords.read_text())
        assert banner[-1] == f"Log in as:  admin / {password['admin']}", output
        assert len(banner) < 30, output
        assert "honouring your AIRFLOW__CORE__PARALLELISM" in output
        assert "ignoring your AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" in output
        # local only: the API server listens on the loopback address and nowhere else
        assert _listening(port) == ["0100007F"], _listening(port)
        # the Execution API the workers call is this port's
        cfg = (state / "airflow" / "airflow.cfg").read_text()
        assert f"execution_api_server_url = http://127.0.0.1:{port}/execution/" in cfg
        assert "parallelism = 6" in cfg and "load_examples = False" in cfg
        assert "someone-elses-airflow" not in cfg
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/execution/health", timeout=60) as resp:
            assert json.loads(resp.read())["status"] == "healthy"
        # UI traffic leaves no access-log lines
        for _ in range(5):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/version", timeout=60) as resp:
                resp.read()
        api_log = (state / "logs" / "airflow" / "api-server.log").read_text(errors="replace")
        assert "request finished" not in api_log
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)  # Ctrl-C
        try:
            code = proc.wait(240)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        reader.join(30)
        leftovers = _processes_mentioning(str(state))
        shutil.rmtree(state, ignore_errors=True)
    assert code == 0, "\n".join(lines[-30:])
    assert leftovers == [], leftovers
    assert "stopped api-server" in "\n".join(lines)

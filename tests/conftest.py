"""Test-session set-up: an isolated Airflow home, and the shared fixtures of tests/fixtures/.

Airflow reads its configuration when it is first imported, and ``airflow db reset`` wipes whatever
database the environment points at. So before anything imports airflow we drop every inherited
AIRFLOW_* setting and force a private AIRFLOW_HOME with its own SQLite metadata database: a test
run can never touch the caller's Airflow.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

for _name in list(os.environ):
    if _name.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) or _name == "AIRFLOW_HOME":
        del os.environ[_name]

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="cdr-test-airflow-"))
atexit.register(shutil.rmtree, _AIRFLOW_HOME, ignore_errors=True)
os.environ.update(
    {
        "AIRFLOW_HOME": str(_AIRFLOW_HOME),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]),
    }
)

# Every module in tests/fixtures/ is a pytest plugin holding shared fixtures.
pytest_plugins = sorted(
    f"tests.fixtures.{path.stem}"
    for path in (ROOT / "tests" / "fixtures").glob("*.py")
    if path.stem != "__init__"
)

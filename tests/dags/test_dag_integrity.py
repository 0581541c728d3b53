"""Every DAG file imports cleanly, registers DAGs that follow the house rules, and stays cheap to parse.

The scheduler's DAG processor re-parses each file every few seconds and workers parse it again for
every task, so a heavy import at a DAG file's top level costs CPU and memory everywhere.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py") if not p.name.startswith("_"))
HEAVY_MODULES = ("pandas", "pyarrow", "psycopg", "requests", "aiohttp", "sqlalchemy", "include.simulator")
AIRFLOW2_LEFTOVERS = re.compile(
    r"schedule_interval|days_ago|airflow\.operators\.dummy|airflow\.datasets|provide_context|"
    r"from airflow\.models import DAG|from airflow import DAG"
)


def _dagbag(path: Path):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(path))


def test_there_are_dag_files() -> None:
    assert DAG_FILES, "dags/ holds no DAG file"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_and_registers_a_dag(path: Path) -> None:
    bag = _dagbag(path)
    assert bag.import_errors == {}, bag.import_errors
    assert bag.dags, f"{path.name} registers no DAG"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dags_have_owner_retries_and_tags(path: Path) -> None:
    for dag_id, dag in _dagbag(path).dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        for task in dag.tasks:
            assert task.owner and task.owner != "airflow", f"{dag_id}.{task.task_id} has no owner"
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_no_airflow2_leftovers(path: Path) -> None:
    found = AIRFLOW2_LEFTOVERS.findall(path.read_text())
    assert not found, f"{path.name} uses Airflow 2 idioms: {found}"


_IMPORT_COST_PROBE = """
import json, runpy, sys, time
t0 = time.perf_counter()
import airflow.sdk
t1 = time.perf_counter()
before = set(sys.modules)
runpy.run_path(sys.argv[1])
t2 = time.perf_counter()
new = set(sys.modules) - before
roots_before = {m.split(".")[0] for m in before}
print(json.dumps({"sdk": t1 - t0, "dag": t2 - t1, "new": sorted(new),
                  "new_roots": sorted({m.split(".")[0] for m in new} - roots_before)}))
"""


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_import_cost_is_small_next_to_airflow_sdk(path: Path) -> None:
    """Parsing the file pulls in no heavy library and none of the simulator (timings are printed only)."""
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_COST_PROBE, str(path)], capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    # A heavy library the DAG file loads for the first time (airflow.sdk itself already loads sqlalchemy).
    heavy = [m for m in probe["new_roots"] if m in HEAVY_MODULES]
    heavy += [m for m in probe["new"] if m.startswith("include.simulator")]
    assert heavy == [], f"{path.name} imports heavy modules at top level: {heavy[:10]}"
    # Seconds depend on the machine and its load, so they are reported, not asserted; what is asserted is
    # what makes parsing expensive everywhere: the modules the file pulls in.
    print(f"{path.name}: airflow.sdk {probe['sdk']:.3f}s, DAG file {probe['dag']:.3f}s")

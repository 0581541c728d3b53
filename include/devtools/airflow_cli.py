"""``make airflow-cli ARGS="..."``: an ``airflow`` command against the ``make airflow`` set-up.

Why: the local set-up keeps its own ``AIRFLOW_HOME`` (``.state/demo/airflow``), metadata and settings.
A plain ``airflow`` in a shell would use ``~/airflow`` (examples, another DAGs folder, another
database). This runs the venv's ``airflow`` with the same environment ``make airflow`` gives its
components (and, while ``make airflow`` runs, its simulator and warehouse connections), after
writing the same settings into that home's ``airflow.cfg``. When ``make airflow`` is not running,
the set-up's PostgreSQL (which holds Airflow's metadata) is started for the command and stopped after.

    make airflow-cli ARGS="dags list"
    make airflow-cli ARGS="backfill create --dag-id vonage_cdr_daily --from-date 2026-11-01 \\
        --to-date 2026-11-07 --reprocess-behavior failed"
    make airflow-cli ARGS="--state-dir .state/other pools list"
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

from include.devtools.airflow_local import (
    DEFAULT_STATE_DIR,
    StateLayout,
    Warehouse,
    airflow_bin,
    airflow_env,
    resolve_port,
    runtime_file,
    start_warehouse,
    write_airflow_cfg,
)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    state_dir = DEFAULT_STATE_DIR
    if args[:1] == ["--state-dir"] and len(args) > 1:
        state_dir, args = Path(args[1]), args[2:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    layout = StateLayout(Path(state_dir).resolve()).create()
    running: dict[str, object] = {}
    with contextlib.suppress(OSError, ValueError):
        running = json.loads(runtime_file(layout).read_text())
    warehouse: Warehouse | None = None
    if not running:
        # `make airflow` is not running: start the set-up's PostgreSQL (Airflow's metadata) for the command.
        warehouse = start_warehouse(layout)
        running = {"warehouse_dsn": warehouse.dsn, "metadata_url": warehouse.metadata_url}
    try:
        env = airflow_env(
            layout,
            str(running.get("sim_base_url") or "") or None,
            str(running.get("warehouse_dsn") or "") or None,
            port=int(running.get("port") or resolve_port(None)),  # type: ignore[call-overload]
            metadata_url=str(running.get("metadata_url") or "") or None,
        )
        write_airflow_cfg(layout, env)
        return subprocess.run([airflow_bin(), *args], env=env, check=False).returncode
    finally:
        if warehouse is not None:
            warehouse.stop()


if __name__ == "__main__":
    raise SystemExit(main())

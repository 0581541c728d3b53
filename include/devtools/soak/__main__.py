"""``python -m include.devtools.soak`` (``make soak``): run the soak, print its figures, exit 0 only if exact.

Exit codes: 0 the warehouse equals the ground truth (missing, duplicated, stale and unexpected all 0, the
killed loads rolled back and their retries replaced the expired reports); 1 it does not; 3 the time limit
passed (everything the soak started is stopped first).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

from include.vonage_cdr.products import DEFAULT_PRODUCTS


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m include.devtools.soak", description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=11, help="seeds the data and every fault (default 11)")
    p.add_argument("--days", type=int, default=3, help="simulated days (default 3)")
    p.add_argument("--products", default=",".join(DEFAULT_PRODUCTS), help="default: the pipeline's 7")
    p.add_argument("--records-per-day", type=int, default=300, help="per product and day (default 300)")
    p.add_argument(
        "--paged-product", default="SMS", help="product with many records, so sync pages use cursors"
    )
    p.add_argument("--paged-records-per-day", type=int, default=12_000)
    p.add_argument("--fault-scale", type=float, default=1.0, help="multiplies every fault rate (0: none)")
    p.add_argument(
        "--rate",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set one fault rate, e.g. short_file_rate=0.2 (see include/devtools/soak/faults.py)",
    )
    p.add_argument("--sync-every-hours", type=int, default=6, choices=(1, 2, 3, 4, 6, 8, 12, 24))
    p.add_argument("--start-day", type=date.fromisoformat, help="first day (default: days+7 days ago)")
    p.add_argument("--time-limit-minutes", type=float, default=45.0)
    p.add_argument("--max-day-attempts", type=int, default=3, help="runs of one DAG run before giving up")
    p.add_argument("--repair-rounds", type=int, default=3)
    p.add_argument("--no-kill", action="store_true", help="skip the loads killed mid-COPY")
    p.add_argument("--state-dir", type=Path, help="keep everything here (default: a temporary directory)")
    p.add_argument("--database-url", help="admin conninfo of a PostgreSQL server (default: a throwaway one)")
    p.add_argument(
        "--keep-warehouse",
        action="store_true",
        help="with --database-url: keep the soak's database and roles",
    )
    p.add_argument("--json-summary", type=Path, help="also write the figures as JSON to this file")
    p.add_argument("--child-load", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _airflow_env(home: Path) -> None:
    """A private Airflow home with SQLite metadata; no inherited Airflow setting reaches the soak."""
    root = Path(__file__).resolve().parents[3]
    for name in list(os.environ):
        if name.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")) or name == "AIRFLOW_HOME":
            del os.environ[name]
    home.mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(root / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(root / "plugins"),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join(
                [str(root), str(root / "plugins"), os.environ.get("PYTHONPATH", "")]
            ),
        }
    )
    sys.path[:0] = [p for p in (str(root), str(root / "plugins")) if p not in sys.path]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child_load:
        from include.devtools.soak.kill import child_main

        return child_main(args.child_load)
    keep = args.state_dir is not None
    state = (args.state_dir or Path(tempfile.mkdtemp(prefix="cdr-soak-"))).resolve()
    state.mkdir(parents=True, exist_ok=True)
    _airflow_env(state / "airflow")
    from include.devtools.soak.runner import Soak, SoakConfig, TimeLimitExceeded, watchdog

    cfg = SoakConfig(
        seed=args.seed,
        days=args.days,
        products=tuple(p.strip().upper() for p in args.products.split(",") if p.strip()),
        records_per_day=args.records_per_day,
        paged_product=args.paged_product.upper() if args.paged_product else None,
        paged_records_per_day=args.paged_records_per_day,
        fault_scale=args.fault_scale,
        rates={name: float(value) for name, _, value in (r.partition("=") for r in args.rate)},
        sync_every_hours=args.sync_every_hours,
        start_day=args.start_day,
        time_limit_minutes=args.time_limit_minutes,
        max_day_attempts=args.max_day_attempts,
        repair_rounds=args.repair_rounds,
        kill=not args.no_kill,
        keep_warehouse=args.keep_warehouse,
        state_dir=state,
        database_url=args.database_url or None,
        api_secret=os.environ.get("CDR_SOAK_API_SECRET") or None,
        warehouse_password=os.environ.get("CDR_SOAK_WAREHOUSE_PASSWORD") or None,
        json_summary=args.json_summary,
    )
    out = os.fdopen(os.dup(1), "w", buffering=1)
    soak = Soak(cfg, out)

    def on_timeout() -> None:
        out.write(f"soak: time limit of {cfg.time_limit_minutes:.0f} minutes passed; stopping\n")
        out.flush()
        soak.emergency_stop()
        if not keep:
            shutil.rmtree(state, ignore_errors=True)
        os._exit(3)

    # The hard limit is a backstop for a hung run; phases also check the limit between runs.
    timer = watchdog(cfg.time_limit_minutes * 60 + 120, on_timeout)
    try:
        return soak.run(state)
    except TimeLimitExceeded as exc:
        out.write(f"soak: {exc}\n")
        return 3
    finally:
        timer.cancel()
        if not keep:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

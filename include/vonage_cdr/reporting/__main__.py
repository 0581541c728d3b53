"""``make report``: render the usage and cost report from a warehouse into an HTML file.

    python -m include.vonage_cdr.reporting [--dsn URL] [--output FILE] [--days N]

The warehouse is ``--dsn``, else ``$CDR_WAREHOUSE_URL``, else the demo's local warehouse (``make demo``
leaves it in .state/demo): it is started for the rendering and stopped afterwards. The file goes to
``--output``, else ``$CDR_REPORT_DIR/usage-report.html`` (default .state/reports/).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from include.vonage_cdr.reporting import REPORT_FILE_NAME, render_report_file
from include.vonage_cdr.settings import Settings
from include.vonage_cdr.warehouse.migrate import WAREHOUSE_URL_ENV, libpq_dsn


def _render_from_demo_warehouse(output: Path, days: int) -> Path:
    """Start the demo's PostgreSQL (left by ``make demo``), render, stop it again."""
    from include.devtools.airflow_local import DEFAULT_STATE_DIR, StateLayout, start_warehouse

    layout = StateLayout(DEFAULT_STATE_DIR)
    if not layout.pg_data.exists():
        raise SystemExit(f"report: give --dsn or set {WAREHOUSE_URL_ENV}; there is no demo warehouse either")
    warehouse = start_warehouse(layout.create())
    try:
        return render_report_file(warehouse.dsn, output, days=days)
    finally:
        if warehouse.local:
            warehouse.stop()


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m include.vonage_cdr.reporting", description=__doc__)
    parser.add_argument("--dsn", help=f"warehouse URL or conninfo (default: ${WAREHOUSE_URL_ENV})")
    parser.add_argument("--output", type=Path, default=settings.report_dir / REPORT_FILE_NAME)
    parser.add_argument("--days", type=int, default=settings.report_days, help="days covered (default 30)")
    args = parser.parse_args(argv)
    dsn = args.dsn or os.environ.get(WAREHOUSE_URL_ENV)
    if dsn:
        path = render_report_file(libpq_dsn(dsn), args.output, days=args.days)
    else:
        path = _render_from_demo_warehouse(args.output, args.days)
    print(f"usage and cost report: {path.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Body of the daily DAG's last task: render the usage and cost report from the warehouse.

Kept apart from the load tasks so the DAG file stays thin and the report can change without touching the
loading path. The XCom is the file's path, never its content.
"""

from __future__ import annotations

from include.vonage_cdr.settings import Settings


def render_usage_report(settings: Settings) -> str:
    """Render ``<CDR_REPORT_DIR>/usage-report.html`` (replaced atomically) and return its path."""
    from include.vonage_cdr.reporting import REPORT_FILE_NAME, render_report_file
    from vonage_reports.pipeline_tasks import warehouse_dsn

    path = render_report_file(
        warehouse_dsn(settings.warehouse_conn_id),
        settings.report_dir / REPORT_FILE_NAME,
        days=settings.report_days,
    )
    return str(path)

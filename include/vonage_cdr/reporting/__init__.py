"""The usage and cost report: a self-contained HTML page rendered from the warehouse's analytics views.

``make report`` (``python -m include.vonage_cdr.reporting``) and the last task of the daily DAG render it:
CDRs and cost per product and day, top countries and accounts, delivery rates, Video API minutes by
feature, freshness and what the Reports API itself cost. :mod:`.data` reads (SQL in ``sql/``),
:mod:`.charts` draws (plotly), :mod:`.page` assembles one HTML file that needs no network to view.
"""

from __future__ import annotations

from pathlib import Path

REPORT_FILE_NAME = "usage-report.html"


def render_report_file(dsn: str, path: Path, *, days: int = 30) -> Path:
    """Render the report from the warehouse at ``dsn`` into ``path`` (replaced atomically); returns it."""
    from include.vonage_cdr.reporting.data import read_report_data
    from include.vonage_cdr.reporting.page import render_html, write_atomically

    return write_atomically(render_html(read_report_data(dsn, days=days)), path)


__all__ = ["REPORT_FILE_NAME", "render_report_file"]

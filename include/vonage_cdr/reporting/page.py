"""Assemble the usage and cost report: one self-contained HTML file.

Self-contained means it opens from disk with no network at all: plotly.js is inlined once in the page's
head (about 4.6 MB), styles are inline, there are no fonts, images or links to fetch, and a
Content-Security-Policy forbids every request, so a viewer behind a firewall sees what everyone sees and
the page can never call home. Every value is HTML-escaped.
"""

from __future__ import annotations

import html
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from include.vonage_cdr.reporting import charts
from include.vonage_cdr.reporting.data import ReportData, Row

#: no request of any kind: scripts and styles are inline, plotly draws SVG and may use data:/blob: images
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
)
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["toImage"]}

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2733;
       background: #f5f7fa; }
header { background: #1d2733; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; color: #c8d1dc; }
main { padding: 16px 32px 40px; max-width: 1280px; }
section { background: #fff; border-radius: 8px; padding: 16px 20px; margin: 16px 0;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
section h2 { margin: 0 0 4px; font-size: 18px; }
p.note { margin: 0 0 8px; color: #5a6878; font-size: 13px; }
p.empty { color: #5a6878; font-style: italic; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { background: #fff; border-radius: 8px; padding: 12px 16px; min-width: 180px;
        box-shadow: 0 1px 3px rgba(0,0,0,.08); }
.card .label { color: #5a6878; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 22px; font-weight: 600; margin-top: 4px; }
/* explicit columns: a chart is drawn while the page is still being read, before its neighbour exists */
.grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; }
@media (max-width: 900px) { .grid { grid-template-columns: minmax(0, 1fr); } }
h3 { font-size: 14px; margin: 8px 0 0; color: #3a4756; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e3e8ee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.lag-ok { color: #1e7b34; } .lag-warn { color: #a15c00; } .lag-bad { color: #b3261e; font-weight: 600; }
footer { color: #5a6878; font-size: 12px; padding: 0 32px 24px; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _money(amount: Any, currency: Any) -> str:
    if amount is None:
        return "-"
    return f"{Decimal(amount):,f} {currency}"


def _count(value: Any) -> str:
    return f"{int(value or 0):,d}"


class _Page:
    """Collects the page's parts; every chart gets a stable id (``chart-<n>``) and the class ``chart``."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.chart_count = 0
        self.in_section = False

    def add(self, text: str) -> None:
        self.parts.append(text)

    def chart(self, figure: go.Figure | None, *, title: str | None = None, empty: str = "No data.") -> None:
        if title:
            self.add(f"<h3>{_e(title)}</h3>")
        if figure is None:
            self.add(f'<p class="empty">{_e(empty)}</p>')
            return
        self.chart_count += 1
        div = pio.to_html(
            figure,
            full_html=False,
            include_plotlyjs=False,
            include_mathjax=False,
            config=PLOTLY_CONFIG,
            div_id=f"chart-{self.chart_count}",
            default_width="100%",
        )
        self.add(f'<div class="chart" data-chart="{self.chart_count}">{div}</div>')

    def charts_per_currency(self, figures: dict[str, go.Figure], title: str, empty: str) -> None:
        if not figures:
            self.chart(None, empty=empty)
            return
        for currency, figure in figures.items():
            self.chart(figure, title=f"{title} ({currency})" if len(figures) > 1 else None)

    def section(self, title: str, note: str | None = None) -> None:
        if self.in_section:
            self.add("</section>")
        self.in_section = True
        self.add(f"<section><h2>{_e(title)}</h2>")
        if note:
            self.add(f'<p class="note">{_e(note)}</p>')


def _cards(items: Iterable[tuple[str, str]]) -> str:
    body = "".join(
        f'<div class="card"><div class="label">{_e(label)}</div><div class="value">{_e(value)}</div></div>'
        for label, value in items
    )
    return f'<div class="cards">{body}</div>'


def _headline(data: ReportData) -> list[tuple[str, str]]:
    items = [(f"Cost ({row['currency']})", _money(row["total_cost"], row["currency"])) for row in data.totals]
    items.append(("CDRs", _count(sum(int(r["cdr_count"]) for r in data.totals))))
    sent = sum(int(r["message_count"]) for r in data.delivery)
    delivered = sum(int(r["delivered_count"]) for r in data.delivery)
    if sent:
        items.append(("Delivered (SMS + Messages)", f"{Decimal(delivered * 100) / sent:.2f}%"))
    minutes = sum(Decimal(r["usage_minutes"]) for r in data.video if r["feature"] != "video_session")
    if data.video:
        items.append(("Video minutes", f"{minutes:,.2f}"))
    api: dict[str, Decimal] = defaultdict(Decimal)
    for row in data.reports_api:
        api[str(row["currency"])] += Decimal(row["reports_api_cost"] or 0)
    items += [(f"Reports API cost ({c})", _money(v, c)) for c, v in sorted(api.items())]
    return items


def _freshness_table(rows: Sequence[Row]) -> str:
    if not rows:
        return '<p class="empty">No load has recorded its freshness yet.</p>'

    def lag(seconds: Any, mode: str) -> str:
        if seconds is None:
            return '<td class="num">-</td>'
        value = float(seconds)
        limit = 1800 if mode == "sync" else 2 * 86400  # incremental: minutes; daily: about a day plus delay
        css = "lag-ok" if value <= limit else ("lag-warn" if value <= 3 * limit else "lag-bad")
        hours = value / 3600
        text = f"{value / 60:,.0f} min" if hours < 2 else f"{hours:,.1f} h"
        return f'<td class="num {css}">{_e(text)}</td>'

    def when(value: datetime | None) -> str:
        return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    body = "".join(
        f"<tr><td>{_e(r['product'])}</td><td>{_e(r['account_id'])}</td><td>{_e(r['direction'] or '-')}</td>"
        f"<td>{_e(r['mode'])}</td><td>{_e(when(r['newest_event_at']))}</td>"
        f"{lag(r['lag_seconds_now'], r['mode'])}</tr>"
        for r in rows
    )
    return (
        "<table><thead><tr><th>Product</th><th>Account</th><th>Direction</th><th>Mode</th>"
        "<th>Newest event</th><th>Behind now</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def render_html(data: ReportData) -> str:
    """The report page for ``data`` (a complete HTML document with plotly.js inlined)."""
    page = _Page()
    if data.first_day and data.last_day:
        window = f"{data.first_day:%d %b %Y} to {data.last_day:%d %b %Y} (UTC days of usage)"
    else:
        window = "no usage loaded yet"
    page.add(
        f"<header><h1>Vonage usage and cost</h1><p>{_e(window)} &middot; generated "
        f"{_e(data.generated_at.astimezone(UTC).strftime('%Y-%m-%d %H:%M UTC'))}</p></header><main>"
    )
    page.add(_cards(_headline(data)))

    page.section(
        "CDRs per product and day",
        "Records per UTC day of their event time (analytics.billing_daily).",
    )
    page.chart(charts.cdrs_by_product(data.usage), empty="No CDRs in the window.")
    page.section(
        "Cost per product and day",
        "Summed exactly, rounded once to the currency's minor unit; records without a currency count in "
        "the account's billing currency. One chart per currency: amounts of different currencies never add.",
    )
    page.charts_per_currency(charts.cost_by_product(data.usage), "Cost", "No priced CDRs in the window.")

    page.section("Top countries and accounts", "Highest spend over the window, per currency.")
    page.add('<div class="grid"><div>')
    page.add("<h3>Countries</h3>")
    page.charts_per_currency(charts.ranking(data.top_countries, "country"), "Countries", "No country data.")
    page.add("</div><div><h3>Accounts</h3>")
    page.charts_per_currency(charts.ranking(data.top_accounts, "account_id"), "Accounts", "No account data.")
    page.add("</div></div>")

    page.section(
        "Delivery rate",
        "Outbound SMS and Messages delivered / sent per UTC day, from summed counts (never an average of "
        "rates); messages still pending count as not delivered, so the last days rise as receipts arrive.",
    )
    page.chart(charts.delivery_rates(data.delivery), empty="No outbound SMS or Messages in the window.")

    meetings = sum(int(r["event_count"]) for r in data.video if r["feature"] == "video_session")
    page.section(
        "Video minutes by feature",
        f"Minutes of the timed Video API features per UTC day (analytics.video_usage_daily); "
        f"{meetings:,d} meetings started in the window.",
    )
    page.chart(charts.video_minutes(data.video), empty="No Video API usage in the window.")

    page.section(
        "Freshness",
        "Newest event loaded per stream and how far behind now that is (analytics.freshness).",
    )
    page.add(_freshness_table(data.freshness))

    first, last = data.first_load_day, data.last_load_day
    page.section(
        "What the Reports API cost",
        "CDRs retrieved by the loads x the per-CDR price in cdr.settings, per UTC day the loads ran"
        + (f" ({first:%d %b} to {last:%d %b %Y})" if first and last else "")
        + " (analytics.load_costs). Every re-read CDR is billed again.",
    )
    page.charts_per_currency(charts.reports_api_cost(data.reports_api), "Reports API", "No loads yet.")
    page.add("</section></main>")
    page.add(
        "<footer>Generated from the warehouse's analytics views; see docs/data-dictionary.md for what each "
        "figure means and how to roll it up.</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Vonage usage and cost</title>"
        f"<style>{_STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        "</head><body>" + "".join(page.parts) + "</body></html>\n"
    )


def write_atomically(text: str, path: Path) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        tmp.chmod(0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path

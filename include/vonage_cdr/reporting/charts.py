"""The report's charts, as plotly figures built from the rows of :mod:`.data`.

Why plotly: a well-kept library whose figures are plain JSON drawn by one JavaScript file (plotly.js) that
the page inlines, so the report opens offline, from a file, in any browser; charts stay interactive (hover
for exact values, click a legend entry to hide a series). Amounts of different currencies are never drawn
on one axis: money charts come one per currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

from include.vonage_cdr.reporting.data import Row

#: one colour per series name across every chart (SMS is the same colour in the CDR and the cost chart)
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
    "#756bb1", "#636363",
)  # fmt: skip


def _color(name: str, names: Sequence[str]) -> str:
    return PALETTE[sorted(set(names)).index(name) % len(PALETTE)]


def _number(value: Any) -> float:
    return float(value) if isinstance(value, Decimal | int | float) else 0.0


def _layout(fig: go.Figure, *, y_title: str, barmode: str | None = "stack", height: int = 380) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        height=height,
        margin={"l": 60, "r": 20, "t": 10, "b": 40},
        legend={"orientation": "h", "y": -0.18},
        hovermode="x unified",
        yaxis_title=y_title,
    )
    if barmode:
        fig.update_layout(barmode=barmode)
    return fig


def _day_axis(fig: go.Figure, days: Iterable[str]) -> None:
    """A date x axis labelled by day, at most ~15 labels (plotly would otherwise label hours too)."""
    count = len(set(days))
    fig.update_xaxes(type="date", tickformat="%d %b", dtick=86_400_000 * max(1, -(-count // 15)))


def _series(rows: Iterable[Row], x: str, name: str, y: str) -> dict[str, dict[str, float]]:
    """{series name: {x: summed y}} in the rows' order."""
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in rows:
        out[str(row[name])][str(row[x])] += _number(row[y])
    return out


def _stacked_bars(series: dict[str, dict[str, float]], *, y_title: str, hover: str) -> go.Figure:
    names = list(series)
    fig = go.Figure()
    for name in sorted(names):
        points = series[name]
        fig.add_bar(
            name=name,
            x=list(points),
            y=list(points.values()),
            marker_color=_color(name, names),
            hovertemplate=f"%{{y:{hover}}}<extra>{name}</extra>",
        )
    _day_axis(fig, (x for points in series.values() for x in points))
    return _layout(fig, y_title=y_title)


def cdrs_by_product(usage: Sequence[Row]) -> go.Figure | None:
    """Stacked CDR counts per day, one series per product."""
    if not usage:
        return None
    return _stacked_bars(_series(usage, "usage_date", "product", "cdr_count"), y_title="CDRs", hover=",d")


def cost_by_product(usage: Sequence[Row]) -> dict[str, go.Figure]:
    """Stacked cost per day and product, one figure per currency."""
    by_currency: dict[str, list[Row]] = defaultdict(list)
    for row in usage:
        if row["total_cost"] is not None:
            by_currency[str(row["currency"])].append(row)
    return {
        currency: _stacked_bars(
            _series(rows, "usage_date", "product", "total_cost"), y_title=f"Cost ({currency})", hover=",.2f"
        )
        for currency, rows in sorted(by_currency.items())
    }


def ranking(rows: Sequence[Row], label: str, *, value: str = "total_cost") -> dict[str, go.Figure]:
    """Horizontal bars of the top entries (countries or accounts), one figure per currency, largest on top."""
    by_currency: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_currency[str(row["currency"])].append(row)
    figures: dict[str, go.Figure] = {}
    for currency, items in sorted(by_currency.items()):
        items = sorted(items, key=lambda r: r["rank"], reverse=True)
        fig = go.Figure(
            go.Bar(
                orientation="h",
                x=[_number(r[value]) for r in items],
                y=[str(r[label]) for r in items],
                customdata=[[r["cdr_count"]] for r in items],
                marker_color=PALETTE[0],
                hovertemplate=f"%{{y}}: %{{x:,.2f}} {currency}<br>%{{customdata[0]:,d}} CDRs<extra></extra>",
            )
        )
        _layout(fig, y_title="", barmode=None, height=max(220, 34 * len(items) + 80))
        fig.update_layout(hovermode="closest", xaxis_title=f"Cost ({currency})")
        fig.update_yaxes(type="category")
        figures[currency] = fig
    return figures


def delivery_rates(delivery: Sequence[Row]) -> go.Figure | None:
    """Delivery rate per day and product (delivered / sent, from summed counts), in percent."""
    if not delivery:
        return None
    by_product: dict[str, list[Row]] = defaultdict(list)
    for row in delivery:
        by_product[str(row["product"])].append(row)
    names = list(by_product)
    fig = go.Figure()
    for product in sorted(names):
        rows = by_product[product]
        fig.add_scatter(
            name=product,
            mode="lines+markers",
            x=[str(r["usage_date"]) for r in rows],
            y=[_number(r["delivery_rate"]) * 100 for r in rows],
            customdata=[[r["delivered_count"], r["message_count"]] for r in rows],
            line_color=_color(product, names),
            hovertemplate=(
                f"%{{y:.2f}}% (%{{customdata[0]:,d}} of %{{customdata[1]:,d}})<extra>{product}</extra>"
            ),
        )
    _day_axis(fig, (str(r["usage_date"]) for r in delivery))
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    return _layout(fig, y_title="Delivered", barmode=None)


def video_minutes(video: Sequence[Row]) -> go.Figure | None:
    """Stacked Video API minutes per day and feature (timed features; meetings have no minutes)."""
    timed = [r for r in video if r["feature"] != "video_session"]
    if not timed:
        return None
    return _stacked_bars(
        _series(timed, "usage_date", "feature", "usage_minutes"), y_title="Minutes", hover=",.2f"
    )


def reports_api_cost(rows: Sequence[Row]) -> dict[str, go.Figure]:
    """What retrieving CDRs cost per load day and product, one figure per currency of the price."""
    by_currency: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_currency[str(row["currency"])].append(row)
    return {
        currency: _stacked_bars(
            _series(items, "load_date", "product", "reports_api_cost"),
            y_title=f"Reports API cost ({currency})",
            hover=",.2f",
        )
        for currency, items in sorted(by_currency.items())
    }

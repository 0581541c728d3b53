"""The usage and cost report rendered from simulator data, opened in headless Chromium as a person would.

What a person cares about: the page opens from a file with no network, every chart draws its marks, no
script fails, and the figures on it are the warehouse's (the CDR count is the simulator's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from include.simulator import SimClock, Simulator, SimulatorConfig
from include.vonage_cdr.reporting import __main__ as report_cli
from include.vonage_cdr.reporting import render_report_file
from tests.fixtures.browser import BrowserPage
from tests.fixtures.warehouse import MigratedWarehouse
from tests.warehouse.simulated_day import SimulatedDay, load_simulated_day

CLOCK = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
DAYS = (date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19))
PRODUCTS = ["SMS", "MESSAGES", "VOICE-CALL", "NUMBER-INSIGHT", "VIDEO-API"]
SECTIONS_WITH_CHARTS = (
    "CDRs per product and day",
    "Cost per product and day",
    "Top countries and accounts",
    "Delivery rate",
    "Video minutes by feature",
    "What the Reports API cost",
)

CHART_STATE = """() => Array.from(document.querySelectorAll('section')).map(section => ({
    title: section.querySelector('h2').textContent,
    charts: Array.from(section.querySelectorAll('div.chart')).map(chart => {
        const plot = chart.querySelector('.js-plotly-plot');
        const marks = Array.from(chart.querySelectorAll('g.trace path'))
            .filter(path => (path.getAttribute('d') || '').length > 2);
        return {
            drawn: Boolean(plot && plot._fullLayout),
            svg: chart.querySelectorAll('svg.main-svg').length,
            traces: chart.querySelectorAll('g.trace').length,
            marks: marks.length,
            ysum: plot ? plot.data.reduce(
                (sum, t) => sum + (t.y || []).reduce((a, b) => a + Number(b), 0), 0) : 0,
        };
    }),
}))"""


@pytest.fixture
def loaded_warehouse(
    simulator_factory: Callable[[SimulatorConfig], Simulator],
    migrated_warehouse: MigratedWarehouse,
    tmp_path: Path,
) -> tuple[MigratedWarehouse, list[SimulatedDay]]:
    sim = simulator_factory(SimulatorConfig(clock=SimClock(start=CLOCK, rate=0), records_per_day=80))
    days = [
        load_simulated_day(sim, migrated_warehouse.dsn, PRODUCTS, day, tmp_path / str(day)) for day in DAYS
    ]
    return migrated_warehouse, days


def test_report_opens_offline_in_chromium_and_every_chart_draws_without_errors(
    loaded_warehouse: tuple[MigratedWarehouse, list[SimulatedDay]], browser_page: BrowserPage, tmp_path: Path
) -> None:
    warehouse, days = loaded_warehouse
    path = render_report_file(warehouse.dsn, tmp_path / "report" / "usage-report.html")
    total_cdrs = sum(len(records) for day in days for records in day.truth.values())

    page = browser_page.page
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_function("document.querySelectorAll('div.chart svg.main-svg').length > 0")
    sections = {s["title"]: s["charts"] for s in page.evaluate(CHART_STATE)}

    for title in SECTIONS_WITH_CHARTS:
        assert sections.get(title), f"section {title!r} has no chart"
        for chart in sections[title]:
            assert chart["drawn"] and chart["svg"] >= 1, (title, chart)
            assert chart["traces"] >= 1 and chart["marks"] >= 1, (title, chart)
    assert sections["CDRs per product and day"][0]["ysum"] == total_cdrs
    assert len(sections["Cost per product and day"]) == 2  # EUR and USD (Video API) never share an axis
    cards = dict(
        zip(
            page.locator(".card .label").all_inner_texts(),
            page.locator(".card .value").all_inner_texts(),
            strict=True,
        )
    )
    assert cards["CDRS"] == f"{total_cdrs:,d}"  # labels are shown upper case
    assert (
        page.locator("section:has(h2:text('Freshness')) tbody tr").count() == 7
    )  # 5 products, SMS/MESSAGES x 2

    # Interactive under the page's strict Content-Security-Policy: hovering a bar shows its values.
    box = page.locator("#chart-1 g.trace.bars g.point path").first.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("document.querySelectorAll('#chart-1 g.hoverlayer text').length > 1")
    hover = page.evaluate(
        "Array.from(document.querySelectorAll('#chart-1 g.hoverlayer text'), t => t.textContent)"
    )
    assert any(text.startswith("SMS") for text in hover), hover

    assert browser_page.errors == []
    assert browser_page.requests == [], "the report must not fetch anything"
    html = path.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "<script src" not in html


def test_report_command_writes_the_file_and_prints_its_path(
    loaded_warehouse: tuple[MigratedWarehouse, list[SimulatedDay]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    warehouse, _ = loaded_warehouse
    output = tmp_path / "out" / "report.html"
    assert report_cli.main(["--dsn", warehouse.dsn, "--output", str(output), "--days", "2"]) == 0
    assert f"usage and cost report: {output.resolve()}" in capsys.readouterr().out
    text = output.read_text(encoding="utf-8")
    assert "18 Nov 2026 to 19 Nov 2026" in text  # the window ends at the newest day of usage


def test_an_empty_warehouse_gives_a_page_that_says_so(
    migrated_warehouse: MigratedWarehouse, browser_page: BrowserPage, tmp_path: Path
) -> None:
    path = render_report_file(migrated_warehouse.dsn, tmp_path / "empty.html")
    browser_page.page.goto(path.as_uri())
    browser_page.page.wait_for_load_state("load")
    assert "no usage loaded yet" in browser_page.page.inner_text("header")
    assert browser_page.page.locator("p.empty").count() >= 5
    assert browser_page.errors == [] and browser_page.requests == []

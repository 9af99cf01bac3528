"""The demo's HTML report (``openai_sentinel._demo.report``): pure-Python checks of the
markup, then the page opened from a ``file://`` URL in a real headless Chromium through
Playwright, offline: any request besides the file itself fails the test.

The browser is ``$SENTINEL_CHROMIUM``, else ``chromium`` on PATH (``scripts/install-browser.sh``
installs Debian's). Without it (or without Playwright) the browser tests skip, unless
``SENTINEL_REQUIRE_BACKENDS=1`` (set by ``make test``) makes that a failure.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, NoReturn

import pytest

from openai_sentinel._demo.report import MAX_POINTS, render_html, write_report

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "demo_day.json"
CHARTS = {"confidence", "cost", "cost-timeline", "latency", "security", "security-timeline"}
PERCENTILES = {"p50": "p50_s", "p95": "p95_s", "p99": "p99_s"}
HOSTILE = "<script>alert(1)</script>"


def load_day() -> dict[str, Any]:
    day: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return day


def hostile_day() -> dict[str, Any]:
    """A day whose strings are markup: every one must come out as text."""
    return {
        "title": "<b>bold</b> & co",
        "generated_at": '2026-12-01T00:00:00Z"><img src=x onerror=alert(2)>',
        "mode": "<i>live</i>",
        "requests": 2,
        "models": {HOSTILE: {"calls": 2, "cost_per_request_usd": 0.001, "p50_s": 0.5}},
        "timeline": [
            {"index": 0, "model": HOSTILE, "confidence": 0.9, "cost_usd": 0.001, "security": []},
            {"index": 1, "model": HOSTILE, "confidence": 0.8, "cost_usd": 0.001, "security": []},
        ],
        "phases": [
            {"name": '"><svg onload=alert(3)>', "start": 0, "end": 2, "description": "<hr>"}
        ],
        "alarms": [{"index": 1, "model": HOSTILE, "signal": "<u>x</u>", "severity": "critical"}],
        "security": {"by_category": {"<em>pii</em>": 1}, "by_action": {"<s>a</s>": 1}},
    }


# --- the markup, without a browser ----------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    chart: str | None
    """The ``data-chart`` of the figure the element is in."""


class Markup(HTMLParser):
    """Every start tag of a page, with the chart it belongs to, and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text: list[str] = []
        self.figure: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "figure":
            self.figure = values.get("data-chart")
        self.elements.append(Element(tag, values, self.figure))

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self.figure = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str, chart: str | None = None, **attrs: str) -> list[Element]:
        """Elements ``tag`` (in figure ``chart``) with these attributes (``data_x`` is
        ``data-x``, ``class_`` is ``class``)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [
            element
            for element in self.elements
            if element.tag == tag
            and (chart is None or element.chart == chart)
            and all(element.attrs.get(name) == value for name, value in wanted.items())
        ]


def parse(page: str) -> Markup:
    markup = Markup()
    markup.feed(page)
    markup.close()
    return markup


REMOTE = re.compile(r"""(?:src|href|action|srcset|poster)\s*=\s*["']?\s*(?:https?:)?//""", re.I)


def remote_references(page: str) -> list[str]:
    """Everything in ``page`` that would make a browser fetch from elsewhere."""
    found = REMOTE.findall(page)
    found += re.findall(r"https?://", page)
    found += re.findall(r"url\(|@import|<link\b|<script\b|<iframe\b|<object\b|<embed\b", page)
    return found


def test_the_sample_page_references_nothing_remote() -> None:
    page = render_html(load_day())
    assert remote_references(page) == []
    markup = parse(page)
    assert not [e for e in markup.elements if e.tag in {"script", "link", "img", "iframe"}]
    assert {e.attrs["data-chart"] for e in markup.find("figure")} == CHARTS
    assert not markup.find("figure", data_empty="true")


def test_a_day_without_data_renders_no_data_charts() -> None:
    for day in (
        {},
        {"models": None, "timeline": None, "alarms": None, "phases": None, "security": None},
        {"title": "60 requests", "requests": 60, "timeline": [], "alarms": [], "phases": []},
    ):
        page = render_html(day)
        markup = parse(page)
        figures = markup.find("figure")
        assert {f.attrs["data-chart"] for f in figures} == CHARTS
        assert all(f.attrs.get("data-empty") == "true" for f in figures)
        assert len(markup.find("svg")) == len(CHARTS)
        text = " ".join(markup.text)
        assert text.count("no data") == len(CHARTS)
        assert "No alarm fired." in text
        assert not markup.find("line", class_="alarm")
        assert not markup.find("rect", class_="bar")
        assert remote_references(page) == []


def test_a_short_run_without_alarms_still_draws_its_data() -> None:
    day = load_day()
    day["timeline"] = day["timeline"][:60]
    day["alarms"] = []
    markup = parse(render_html(day))
    assert not markup.find("line", class_="alarm")
    assert markup.find("polyline", "confidence")
    assert "No alarm fired." in " ".join(markup.text)
    assert not markup.find("figure", data_empty="true")


def test_data_is_escaped_and_renders_as_text() -> None:
    page = render_html(hostile_day())
    markup = parse(page)
    assert not [e for e in markup.elements if e.tag in {"script", "img", "b", "i", "u", "em", "s"}]
    assert not [e for e in markup.elements if any(a.startswith("on") for a in e.attrs)]
    assert len(markup.find("svg")) == len(CHARTS)  # no <svg> smuggled in by a phase name
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = "".join(markup.text)
    assert HOSTILE in text and "<b>bold</b> & co" in text
    assert len(markup.find("tr", data_model=HOSTILE)) == 2  # its summary row, its alarm
    [line] = markup.find("line", class_="alarm")
    assert line.attrs["data-model"] == HOSTILE
    assert remote_references(page) == []


def test_long_timelines_are_averaged_to_at_most_max_points_per_model() -> None:
    models = ("a", "b", "c")
    timeline = [
        {"index": i, "model": models[i % 3], "confidence": 0.5 + (i % 7) / 20, "cost_usd": 1e-4}
        for i in range(6000)
    ]
    page = render_html({"timeline": timeline})
    markup = parse(page)
    for chart in ("confidence", "cost-timeline"):
        lines = markup.find("polyline", chart)
        assert [line.attrs["data-model"] for line in lines] == list(models)
        for line in lines:
            assert line.attrs["data-count"] == "2000"
            assert len(line.attrs["points"].split()) == MAX_POINTS
    assert len(page) < 200_000


def test_write_report_creates_the_folder(tmp_path: Path) -> None:
    path = write_report(load_day(), tmp_path / "a" / "b" / "report.html")
    assert path.read_text(encoding="utf-8") == render_html(load_day())


# --- the page in a browser ------------------------------------------------------------------


def _unavailable(message: str) -> NoReturn:
    if os.environ.get("SENTINEL_REQUIRE_BACKENDS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def browser() -> str:
    """The Chromium executable: ``$SENTINEL_CHROMIUM``, else ``chromium`` on PATH; skips
    (fails under ``SENTINEL_REQUIRE_BACKENDS=1``) when there is none."""
    configured = os.environ.get("SENTINEL_CHROMIUM")
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        _unavailable(f"SENTINEL_CHROMIUM={configured} is not an executable")
    found = shutil.which("chromium")
    if found:
        return found
    _unavailable("chromium is not installed: run scripts/install-browser.sh (make test does)")


@dataclass
class Opened:
    """A report loaded in the browser, and what the page did while loading."""

    day: dict[str, Any]
    page: Any
    url: str
    requests: list[str] = field(default_factory=list)
    """Every request the page made, besides the file itself."""
    aborted: list[str] = field(default_factory=list)
    """What the router stopped (the same requests, seen from the network side)."""
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def route(self, route: Any) -> None:
        """Lets the file itself load; aborts (and records) anything else."""
        if route.request.url == self.url:
            route.continue_()
        else:
            self.aborted.append(route.request.url)
            route.abort()

    def on_request(self, request: Any) -> None:
        if request.url != self.url:
            self.requests.append(request.url)

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def on_page_error(self, error: Any) -> None:
        self.errors.append(f"page error: {error}")

    def on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    executable = browser()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    playwright = sync_playwright().start()
    try:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="module")
def open_report(
    chromium: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[dict[str, Any]], Opened]]:
    """Opens the report of a day from a file, offline, recording requests and errors."""
    contexts: list[Any] = []

    def open_(day: dict[str, Any]) -> Opened:
        path = write_report(day, tmp_path_factory.mktemp("report") / "report.html")
        context = chromium.new_context(viewport={"width": 1100, "height": 900})
        contexts.append(context)
        opened = Opened(day, context.new_page(), path.as_uri())

        context.route("**/*", opened.route)
        page = opened.page
        page.on("request", opened.on_request)
        page.on("console", opened.on_console)
        page.on("pageerror", opened.on_page_error)
        page.on("dialog", opened.on_dialog)
        page.goto(opened.url, wait_until="load")
        page.wait_for_timeout(200)  # late console messages
        return opened

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def sample(open_report: Callable[[dict[str, Any]], Opened]) -> Opened:
    return open_report(load_day())


def attributes(page: Any, selector: str, *names: str) -> list[dict[str, str | None]]:
    """``names`` of every element matching ``selector``, from the live DOM."""
    found: list[dict[str, str | None]] = page.eval_on_selector_all(
        selector,
        "(nodes, names) => nodes.map(n => Object.fromEntries("
        "names.map(name => [name, n.getAttribute(name)])))",
        list(names),
    )
    return found


browser_test = pytest.mark.timeout(120)


@browser_test
def test_the_page_loads_nothing_and_logs_no_error(sample: Opened) -> None:
    assert sample.requests == []
    assert sample.aborted == []
    assert sample.errors == []
    assert sample.page.title() == sample.day["title"]


@browser_test
def test_every_chart_is_drawn(sample: Opened) -> None:
    figures = sample.page.locator("figure[data-chart]")
    names = [figures.nth(i).get_attribute("data-chart") for i in range(figures.count())]
    assert set(names) == CHARTS
    for position, name in enumerate(names):
        svg = figures.nth(position).locator("svg")
        assert svg.count() == 1, name
        box = svg.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 100, name
        assert figures.nth(position).locator("figcaption").inner_text().strip(), name
        assert figures.nth(position).locator(".legend .legend-item").count() >= 1, name
        assert figures.nth(position).locator(".axis .tick").count() >= 2, name


@browser_test
def test_one_confidence_line_per_model_and_every_alarm_marked(sample: Opened) -> None:
    counts: dict[str, int] = {}
    for entry in sample.day["timeline"]:
        if entry["confidence"] is not None:
            counts[entry["model"]] = counts.get(entry["model"], 0) + 1
    lines = attributes(
        sample.page, "figure[data-chart=confidence] polyline", "data-model", "data-count"
    )
    assert len(lines) == len(counts)
    assert {line["data-model"]: int(line["data-count"] or 0) for line in lines} == counts
    box = sample.page.locator("figure[data-chart=confidence] polyline").first.bounding_box()
    assert box is not None and box["width"] > 100
    alarms = attributes(
        sample.page, "figure[data-chart=confidence] line.alarm", "data-model", "data-x"
    )
    assert sample.day["alarms"], "the sample has alarms"
    assert len(alarms) == len(sample.day["alarms"])
    for alarm in sample.day["alarms"]:
        assert {"data-model": alarm["model"], "data-x": str(alarm["index"])} in alarms
    assert sample.page.locator("table.alarms tbody tr").count() == len(sample.day["alarms"])


@browser_test
def test_cost_bars_are_the_cost_per_request_of_each_model(sample: Opened) -> None:
    expected = {
        model: row["cost_per_request_usd"]
        for model, row in sample.day["models"].items()
        if row["cost_per_request_usd"] is not None
    }
    bars = attributes(sample.page, "figure[data-chart=cost] rect.bar", "data-model", "data-value")
    drawn = {bar["data-model"]: float(bar["data-value"] or "nan") for bar in bars}
    assert drawn.keys() == expected.keys()
    for model, cost in expected.items():
        assert math.isclose(drawn[model], round(cost, 10), rel_tol=1e-6), model
    heights = {
        bar.get_attribute("data-model"): (bar.bounding_box() or {"height": 0})["height"]
        for bar in sample.page.locator("figure[data-chart=cost] rect.bar").all()
    }
    cheapest = min(expected, key=lambda model: expected[model])
    dearest = max(expected, key=lambda model: expected[model])
    assert 0 < heights[cheapest] < heights[dearest]
    # the cost bug: the phase where one model's calls cost several times their usual price
    assert sample.page.locator("figure[data-chart=cost-timeline] polyline").count() == len(
        {e["model"] for e in sample.day["timeline"] if e["cost_usd"] is not None}
    )


@browser_test
def test_latency_bars_for_each_model_and_percentile(sample: Opened) -> None:
    expected = {
        (model, percentile): row[key]
        for model, row in sample.day["models"].items()
        for percentile, key in PERCENTILES.items()
        if row[key] is not None
    }
    bars = attributes(
        sample.page,
        "figure[data-chart=latency] rect.bar",
        "data-model",
        "data-percentile",
        "data-value",
    )
    drawn = {
        (bar["data-model"], bar["data-percentile"]): float(bar["data-value"] or "nan")
        for bar in bars
    }
    assert len(bars) == len(expected)
    assert drawn.keys() == expected.keys()
    for key, value in expected.items():
        assert math.isclose(drawn[key], value, rel_tol=1e-6), key


@browser_test
def test_security_bars_by_category(sample: Opened) -> None:
    expected = sample.day["security"]["by_category"]
    bars = attributes(
        sample.page, "figure[data-chart=security] rect.bar", "data-category", "data-value"
    )
    assert {bar["data-category"]: int(bar["data-value"] or 0) for bar in bars} == expected
    flagged = sum(bool(entry["security"]) for entry in sample.day["timeline"])
    histogram = attributes(
        sample.page, "figure[data-chart=security-timeline] rect.bar", "data-value"
    )
    assert sum(int(bar["data-value"] or 0) for bar in histogram) == flagged


@browser_test
def test_the_summary_table_has_one_row_per_model(sample: Opened) -> None:
    rows = sample.page.locator("table.summary tbody tr")
    assert rows.count() == len(sample.day["models"])
    models = [rows.nth(i).get_attribute("data-model") for i in range(rows.count())]
    assert models == list(sample.day["models"])
    for position, (model, row) in enumerate(sample.day["models"].items()):
        cells = rows.nth(position).locator("td").all_inner_texts()
        assert cells[0].strip() == model
        assert cells[1] == f"{row['calls']:,}"
    phases = sample.page.locator("table.phases tbody tr")
    assert phases.count() == len(sample.day["phases"])


@browser_test
def test_a_screenshot_can_be_taken(sample: Opened, tmp_path: Path) -> None:
    path = tmp_path / "report.png"
    sample.page.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 50_000  # a blank page is a few kilobytes


@browser_test
def test_an_empty_day_shows_no_data_without_errors(
    open_report: Callable[[dict[str, Any]], Opened],
) -> None:
    opened = open_report({})
    assert opened.requests == opened.aborted == opened.errors == []
    figures = opened.page.locator("figure[data-chart]")
    assert figures.count() == len(CHARTS)
    for position in range(figures.count()):
        figure = figures.nth(position)
        box = figure.locator("svg").bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
        assert figure.locator("svg text.no-data").text_content() == "no data"


@browser_test
def test_markup_in_the_data_stays_text(open_report: Callable[[dict[str, Any]], Opened]) -> None:
    opened = open_report(hostile_day())
    assert opened.requests == opened.aborted == opened.errors == [] and opened.dialogs == []
    page = opened.page
    assert page.locator("script, img, b, i, u, em, hr").count() == 0
    assert page.locator("table.summary tbody tr td").first.inner_text().strip() == HOSTILE
    assert page.locator("h1").inner_text().startswith("<b>bold</b> & co")
    assert page.title() == "<b>bold</b> & co"

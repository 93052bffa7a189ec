"""PromQL on the metrics page, in a real Chromium: a gauge and a counter sent over OTLP are
plotted with their legends and known values, an instant query is a table, parse errors are
marked at their line and column, and the URL brings back the view it names."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.e2e.conftest import wait_for
from tests.ui.conftest import UI, Filled

pytestmark = pytest.mark.slow

S = 10**9
STEP = 10  # seconds between the points sent, and the step of the queries
DEPTHS = {"q1": [3, 7, 2, 9, 4, 6], "q2": [1, 1, 1, 1, 1, 5]}
"""The gauge's values per queue, at t0, t0 + 10 s, ..."""
RATES = {"/a": 2.0, "/b": 0.5}
"""The counter's increase per second per route, over two minutes."""
COUNTER_POINTS = 13


def _attributes(**values: str) -> list[dict[str, Any]]:
    return [{"key": k, "value": {"stringValue": v}} for k, v in values.items()]


@pytest.fixture(scope="module")
def t0(filled: Filled) -> int:
    """Sends the gauge and the counter, 10 s apart from a whole minute ten minutes ago (so
    that 10 s and 20 s steps fall on the points); returns t0 in Unix seconds."""
    start = (time.time_ns() - 600 * S) // (60 * S) * (60 * S)
    gauge = {
        "name": "promql.ui.depth",
        "gauge": {
            "dataPoints": [
                {
                    "timeUnixNano": str(start + i * STEP * S),
                    "asInt": str(value),
                    "attributes": _attributes(queue=queue),
                }
                for queue, values in DEPTHS.items()
                for i, value in enumerate(values)
            ]
        },
    }
    counter = {
        "name": "promql.ui.requests",
        "sum": {
            "aggregationTemporality": 2,
            "isMonotonic": True,
            "dataPoints": [
                {
                    "startTimeUnixNano": str(start - STEP * S),
                    "timeUnixNano": str(start + i * STEP * S),
                    "asDouble": 100 + rate * STEP * i,
                    "attributes": _attributes(route=route),
                }
                for route, rate in RATES.items()
                for i in range(COUNTER_POINTS)
            ],
        },
    }
    resource = {"attributes": _attributes(**{"service.name": "promql-ui"})}
    body = {
        "resourceMetrics": [{"resource": resource, "scopeMetrics": [{"metrics": [gauge, counter]}]}]
    }
    server = filled.server
    response = httpx.post(f"{server.otlp_http}/v1/metrics", json=body, timeout=10)
    assert response.status_code == 200, response.text
    t0 = start // S

    def arrived() -> bool:
        query = {"query": "count(promql_ui_depth) + count(promql_ui_requests_total)"}
        query["time"] = str(t0 + 60)
        response = httpx.get(f"{server.url}/api/v1/query", params=query, timeout=5)
        result = response.json()["data"]["result"] if response.status_code == 200 else []
        return bool(result) and result[0]["value"][1] == "4"

    wait_for(arrived, what="the PromQL metrics")
    return t0


def _metrics(start: int, end: int, **params: str) -> str:
    """The metrics page for ``start``..``end`` (Unix seconds) with PromQL ``params``."""
    query = "".join(f"&{k}={quote(v, safe='')}" for k, v in params.items())
    return f"/metrics?start={start}&end={end}{query}"


def _box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="PromQL expression")


def _rows(page: Page) -> Locator:
    return page.locator(".promql-result tr.promql-series")


def _values(row: Locator) -> list[float]:
    """A legend row's last, min and max, as the API wrote them."""
    cells = row.locator("td.num")
    return [float(cells.nth(i).get_attribute("data-value") or "nan") for i in range(3)]


def test_a_gauge_plots_one_line_per_series_with_its_labels(ui: UI, t0: int) -> None:
    end = t0 + STEP * (len(DEPTHS["q1"]) - 1)
    page = ui.open(_metrics(t0, end, q="promql_ui_depth", step="10s"))
    rows = _rows(page)
    expect(rows).to_have_count(2)
    expect(page.locator(".promql-result .chart")).to_have_attribute("data-series", "2")
    expect(page.locator(".promql-result canvas")).to_have_count(1)
    expect(page.locator(".promql-result p.plotted")).to_have_text("2 series · step 10s")
    for row, (queue, values) in zip(rows.all(), DEPTHS.items(), strict=True):
        expect(row.locator("td.legend")).to_have_text(
            f'promql_ui_depth{{job="promql-ui", queue="{queue}"}}'
        )
        # One step on each point sent: the last, lowest and highest values are the sent ones.
        assert _values(row) == [values[-1], min(values), max(values)]


def test_a_counters_rate_with_a_legend_format(ui: UI, t0: int) -> None:
    # Every step's one-minute window holds six points 10 s apart: the rate is the slope.
    start, end = t0 + 60, t0 + STEP * (COUNTER_POINTS - 1)
    page = ui.open(
        _metrics(start, end, q="rate(promql_ui_requests_total[1m])", legend="route {{route}}")
    )
    rows = _rows(page)
    expect(rows).to_have_count(2)
    expect(rows.locator("td.legend")).to_have_text([f"route {route}" for route in RATES])
    # The full name stays at hand.
    expect(rows.first.locator("td.legend")).to_have_attribute(
        "title", '{job="promql-ui", route="/a"}'
    )
    for row, rate in zip(rows.all(), RATES.values(), strict=True):
        assert _values(row) == pytest.approx([rate] * 3)


def test_an_instant_query_is_a_table(ui: UI, t0: int) -> None:
    end = t0 + STEP * (COUNTER_POINTS - 1)
    page = ui.open(
        _metrics(t0, end, q="sum by (route) (rate(promql_ui_requests_total[1m]))", mode="table")
    )
    rows = _rows(page)
    expect(rows).to_have_count(2)
    found = {
        legend: float(value)
        for legend, value in rows.evaluate_all(
            "rows => rows.map((r) => [r.cells[0].textContent, r.cells[1].dataset.value])"
        )
    }
    assert found == pytest.approx({f'{{route="{r}"}}': rate for r, rate in RATES.items()})
    expect(page.get_by_role("combobox", name="result")).to_have_value("table")

    page = ui.open(_metrics(t0, end, q="1 + 1", mode="table"))
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).locator("td.num")).to_have_attribute("data-value", "2")
    expect(page.locator(".promql-result p.plotted")).to_contain_text("a scalar at")


def test_typing_an_expression_runs_it_and_the_url_brings_it_back(ui: UI, t0: int) -> None:
    end = t0 + STEP * (len(DEPTHS["q1"]) - 1)
    page = ui.open(f"/metrics?start={t0}&end={end}")
    expect(page.get_by_role("textbox", name="step")).to_have_attribute("placeholder", "auto (1s)")
    box = _box(page)
    box.fill('max(promql_ui_depth{queue="q1"})')
    page.get_by_role("textbox", name="step").fill("20s")
    page.get_by_role("textbox", name="legend format").fill("deepest")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=max%28promql_ui_depth"))
    expect(page).to_have_url(re.compile(r"[?&]step=20s"))
    rows = _rows(page)
    expect(rows).to_have_count(1)
    expect(rows.locator("td.legend")).to_have_text("deepest")
    values = DEPTHS["q1"][::2]  # every other point, on 20 s steps
    assert _values(rows.first) == [values[-1], min(values), max(values)]

    # The link alone shows the same view.
    link = page.url
    page = ui.open("/metrics")
    expect(_rows(page)).to_have_count(0)
    page.goto(link)
    expect(_box(page)).to_have_value('max(promql_ui_depth{queue="q1"})')
    expect(page.get_by_role("textbox", name="step")).to_have_value("20s")
    expect(page.get_by_role("textbox", name="legend format")).to_have_value("deepest")
    expect(_rows(page).locator("td.legend")).to_have_text("deepest")
    assert _values(_rows(page).first) == [values[-1], min(values), max(values)]

    # The picker writes a metric's name at the caret.
    _box(page).fill("sum()")
    _box(page).evaluate("(box) => box.setSelectionRange(4, 4)")
    picker = page.get_by_role("combobox", name="insert metric")
    expect(page.locator(".promql datalist option[value=promql_ui_requests_total]")).to_have_count(1)
    picker.fill("promql_ui_requests_total")
    picker.press("Enter")
    expect(_box(page)).to_have_value("sum(promql_ui_requests_total)")
    expect(picker).to_have_value("")

    # Picking a metric to browse keeps the expression.
    page.locator("a.metric-link", has_text="promql.ui.depth").click()
    expect(page).to_have_url(re.compile(r"metric=promql\.ui\.depth"))
    expect(_box(page)).to_have_value('max(promql_ui_depth{queue="q1"})')
    expect(page.locator(".metric-plot canvas")).to_have_count(1)


@pytest.mark.parametrize(
    ("expression", "line", "column", "marked"),
    [
        ("sum(rate(promql_ui_requests_total[1m])", 1, 4, "("),
        ("promql_ui_depth\n  + nosuch(promql_ui_depth)", 2, 5, "n"),
        ('promql_ui_depth{queue="q1"', 1, 27, " "),  # the end of the text
    ],
)
def test_a_parse_error_is_marked_where_it_is(
    ui: UI, t0: int, expression: str, line: int, column: int, marked: str
) -> None:
    page = ui.open(_metrics(t0, t0 + 60, q=expression))
    problem = page.locator(".promql .tq-error")
    expect(problem).to_contain_text(f"{line}:{column}: parse error")
    expect(page.locator(".promql .tq-mark")).to_have_text(marked)
    expect(_box(page)).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".promql-result")).to_contain_text("refused the query")
    problem.get_by_role("button", name=f"Go to line {line}, column {column}").click()
    caret = _box(page).evaluate("(box) => [box.selectionStart, box.value]")
    lines = expression.split("\n")
    assert caret[0] == sum(len(text) + 1 for text in lines[: line - 1]) + column - 1
    # Typing clears the mark.
    _box(page).press("End")
    _box(page).type(")")
    expect(problem).to_be_hidden()


def test_no_series_and_a_failed_query_say_so(ui: UI, t0: int) -> None:
    page = ui.open(_metrics(t0, t0 + 60, q="promql_ui_depth_nowhere"))
    expect(page.locator(".promql-result .empty-result")).to_contain_text("No series")
    expect(page.locator(".promql-result canvas")).to_have_count(0)

    bad_regex = 'label_replace(promql_ui_depth, "x", "$1", "queue", "(")'
    page = ui.open(_metrics(t0, t0 + 60, q=bad_regex))
    failure = page.locator(".promql-result .api-error")
    expect(failure).to_contain_text("The query could not be answered")
    expect(failure).to_contain_text("invalid regular expression")
    expect(page.locator(".promql .tq-error")).to_be_hidden()


def test_a_query_that_runs_out_of_time_says_so(ui: UI, t0: int) -> None:
    page = ui.page

    # The server's own answer to a query given a millisecond.
    def hurried(route: Route) -> None:
        route.continue_(url=route.request.url + "&timeout=1ms")

    page.route("**/api/v1/query_range?*", hurried)
    expression = "sum by (route) (rate(promql_ui_requests_total[1m]))"
    page = ui.open(_metrics(t0, t0 + 3600, q=expression, step="1s"))
    failure = page.locator(".promql-result .api-error")
    expect(failure).to_contain_text("The query ran out of time: query timed out after 0.001s")
    expect(page.locator(".promql-result")).to_contain_text("A shorter range or a longer step")


def test_a_refused_step_is_shown_under_the_box_without_a_mark(ui: UI, t0: int) -> None:
    page = ui.open(_metrics(t0, t0 + 60, q="promql_ui_depth", step="soon"))
    problem = page.locator(".promql .tq-error")
    expect(problem).to_contain_text('invalid parameter "step"')
    expect(page.locator(".promql .tq-mark")).to_have_count(0)
    expect(problem.get_by_role("button")).to_have_count(0)
    expect(page.locator(".promql-result canvas")).to_have_count(0)

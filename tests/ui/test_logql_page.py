"""LogQL on the logs page, in a real Chromium: log records sent over OTLP come back as the
lines a query matches (newest first, with their level and their labels by kind), older ones
page by page, the filters write the query they mean, the box completes label names and
values from the label APIs, parse errors are marked at their column, and the volume
histogram counts the lines by level."""

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
WEB, DB = "logql-web", "logql-db"
TRACE_ID, SPAN_ID = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
SEVERITIES = {
    "debug": (5, "DEBUG"),
    "info": (9, "INFO"),
    "warn": (13, "WARN"),
    "error": (17, "ERROR"),
}
RECORDS: list[tuple[int, str, str, str, dict[str, str]]] = [
    (0, WEB, "info", "GET /cart 200 12ms", {"http.route": "/cart"}),
    (10, WEB, "warn", "GET /cart 200 950ms slow", {"http.route": "/cart"}),
    (20, DB, "error", "query failed: deadlock detected", {"db.system": "duckdb"}),
    (30, WEB, "info", 'level=info msg="user login" user=alice took=35ms', {}),
    (40, DB, "debug", "pool size 4", {}),
    (50, WEB, "error", "GET /checkout 500", {"http.route": "/checkout"}),
    (70, WEB, "info", "GET /cart 200 8ms", {"http.route": "/cart"}),
    (80, DB, "info", "vacuum 1", {}),
    (80, DB, "info", "vacuum 2", {}),  # three lines in one nanosecond: a page may end among them
    (80, DB, "info", "vacuum 3", {}),
]
"""(seconds after t0, service, level, line, attributes) of each record sent."""


def _attributes(values: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "value": {"stringValue": v}} for k, v in values.items()]


@pytest.fixture(scope="module")
def t0(filled: Filled) -> int:
    """Sends the records, from a whole minute twenty minutes ago; returns t0 in Unix seconds."""
    start = (time.time_ns() - 1200 * S) // (60 * S) * (60 * S)
    by_service: dict[str, list[dict[str, Any]]] = {WEB: [], DB: []}
    for offset, service, level, line, attributes in RECORDS:
        number, text = SEVERITIES[level]
        record: dict[str, Any] = {
            "timeUnixNano": str(start + offset * S),
            "severityNumber": number,
            "severityText": text,
            "body": {"stringValue": line},
            "attributes": _attributes(attributes),
        }
        if line == "GET /checkout 500":
            record |= {"traceId": TRACE_ID, "spanId": SPAN_ID}
        by_service[service].append(record)
    body = {
        "resourceLogs": [
            {
                "resource": {"attributes": _attributes({"service.name": service})},
                "scopeLogs": [{"scope": {"name": "logql.ui"}, "logRecords": records}],
            }
            for service, records in by_service.items()
        ]
    }
    server = filled.server
    response = httpx.post(f"{server.otlp_http}/v1/logs", json=body, timeout=10)
    assert response.status_code == 200, response.text

    def arrived() -> bool:
        query = {"query": '{service_name=~"logql-.*"}', "start": str(start - S), "limit": "100"}
        response = httpx.get(f"{server.url}/loki/api/v1/query_range", params=query, timeout=5)
        if response.status_code != 200:
            return False
        return sum(len(s["values"]) for s in response.json()["data"]["result"]) == len(RECORDS)

    wait_for(arrived, what="the log records")
    return start // S


def _logs(t0: int, **params: str) -> str:
    """The logs page over t0 - 1 min .. t0 + 4 min, with ``params``."""
    query = "".join(f"&{k}={quote(v, safe='')}" for k, v in params.items())
    return f"/logs?start={t0 - 60}&end={t0 + 240}{query}"


def _box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="LogQL query")


def _options(page: Page) -> Locator:
    return page.get_by_role("listbox", name="LogQL completions").get_by_role("option")


def _lines(page: Page) -> Locator:
    return page.locator("table.logs tr.log .line")


def _expected(*, service: str | None = None, has: str = "") -> list[str]:
    """The lines of the records sent, newest first, from ``service``, containing ``has``."""
    found = [
        (offset, line)
        for offset, svc, _, line, _ in RECORDS
        if (service is None or svc == service) and has in line
    ]
    return [line for _, line in sorted(found, key=lambda item: -item[0])]


def _level(line: str) -> str:
    return next(level for _, _, level, text, _ in RECORDS if text == line)


def test_a_query_shows_the_lines_it_matches_newest_first(ui: UI, t0: int) -> None:
    page = ui.open(_logs(t0))
    box = _box(page)
    box.fill(f'{{service_name="{WEB}"}} |= "GET"')
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=%7Bservice_name"))
    expected = _expected(service=WEB, has="GET")
    assert expected == [
        "GET /cart 200 8ms",
        "GET /checkout 500",
        "GET /cart 200 950ms slow",
        "GET /cart 200 12ms",
    ]
    expect(_lines(page)).to_have_text(expected)
    rows = page.locator("table.logs tr.log")
    assert rows.evaluate_all("rows => rows.map((r) => r.dataset.level)") == [
        _level(line) for line in expected
    ]
    expect(rows.locator(".level")).to_have_text([_level(line) for line in expected])
    expect(page.locator(".count")).to_have_text("4 lines, newest first")
    expect(page.locator(".all-shown")).to_be_visible()

    # The line with a trace id links to its trace and span.
    link = rows.filter(has_text="GET /checkout 500").locator("a.trace-link")
    expect(link).to_have_attribute("href", f"/trace/{TRACE_ID}?span={SPAN_ID}")
    expect(rows.locator("a.trace-link")).to_have_count(1)
    rows.filter(has_text="GET /checkout 500").click()
    trace_id = page.locator("tr.log-detail:not(.hidden)").get_by_role("link", name=TRACE_ID)
    expect(trace_id).to_have_attribute("href", f"/trace/{TRACE_ID}?span={SPAN_ID}")

    # The link alone brings back the query and its lines.
    link_url = page.url
    page = ui.open("/logs")
    page.goto(link_url)
    expect(_box(page)).to_have_value(f'{{service_name="{WEB}"}} |= "GET"')
    expect(_lines(page)).to_have_text(expected)


def test_a_line_shows_its_labels_by_kind(ui: UI, t0: int) -> None:
    page = ui.open(_logs(t0, q='{service_name=~"logql-.*"} | logfmt | user="alice"'))
    row = page.locator("table.logs tr.log")
    expect(row).to_have_count(1)
    expect(row.locator(".line")).to_have_text('level=info msg="user login" user=alice took=35ms')
    row.click()
    detail = page.locator("tr.log-detail:not(.hidden)")

    def labels(kind: str) -> dict[str, str]:
        cells = detail.locator(f".labels-{kind} td")
        texts = cells.all_text_contents()
        return dict(zip(texts[::2], texts[1::2], strict=True))

    expect(detail.locator(".labels-parsed h3")).to_have_text("Parsed labels (4)")
    assert labels("parsed") == {
        "level": "info",
        "msg": "user login",
        "took": "35ms",
        "user": "alice",
    }
    assert labels("stream") == {"service_name": WEB}
    metadata = labels("metadata")
    assert metadata["detected_level"] == "info"
    assert metadata["severity_text"] == "INFO"
    assert metadata["scope_name"] == "logql.ui"
    assert not set(metadata) & {"service_name", "user"}


def test_older_lines_page_by_time(ui: UI, t0: int) -> None:
    # Two lines a page; three share their nanosecond, so the first page ends among them.
    page = ui.open(_logs(t0, q=f'{{service_name="{DB}"}}', limit="2"))
    expect(_lines(page)).to_have_count(2)
    more = page.get_by_role("button", name="Older lines")
    more.click()
    expect(_lines(page)).to_have_count(4)
    more.click()
    expect(_lines(page)).to_have_count(5)
    expect(page.locator(".all-shown")).to_be_visible()
    expect(more).to_have_count(0)
    shown = _lines(page).all_text_contents()
    expected = _expected(service=DB)
    assert sorted(shown[:3]) == sorted(expected[:3]) == ["vacuum 1", "vacuum 2", "vacuum 3"]
    assert shown[3:] == expected[3:] == ["pool size 4", "query failed: deadlock detected"]
    expect(page.locator(".count")).to_have_text("5 lines, newest first")


def test_the_filters_write_the_logql_they_mean(ui: UI, t0: int) -> None:
    page = ui.open(_logs(t0))
    box = _box(page)
    page.locator("select[name=service]").select_option(WEB)
    expect(box).to_have_value(f'{{service_name="{WEB}"}}')
    page.locator("select[name=level]").select_option("error")
    expect(box).to_have_value(f'{{service_name="{WEB}"}} | detected_level=~"error|critical|fatal"')
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"service=logql-web.*level=error"))
    expect(_lines(page)).to_have_text(["GET /checkout 500"])

    # Text is found in any case; an attribute is compared as its label.
    page.locator("select[name=level]").select_option("")
    page.locator("input[name=text]").fill("get /CART")
    page.locator("input[name=attr]").first.fill("http.route=/cart")
    expect(box).to_have_value(f'{{service_name="{WEB}"}} |~ "(?i)get /CART" | http_route="/cart"')
    page.get_by_role("button", name="Search").click()
    expect(_lines(page)).to_have_text(_expected(service=WEB, has="GET /cart"))

    # Running the query puts it in the URL in place of the filters.
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]q=%7Bservice_name"))
    expect(page.locator("select[name=service]")).to_have_value("")
    expect(_lines(page)).to_have_text(_expected(service=WEB, has="GET /cart"))

    # The way from a span to its logs: its trace and span ids.
    page = ui.open(_logs(t0, traceId=TRACE_ID.upper(), spanId=SPAN_ID))
    expect(box).to_have_value(
        f'{{service_name=~".+"}} | trace_id="{TRACE_ID}" | span_id="{SPAN_ID}"'
    )
    expect(_lines(page)).to_have_text(["GET /checkout 500"])


def test_completion_offers_the_labels_and_values_present(ui: UI, t0: int) -> None:
    page = ui.open(_logs(t0, q=f'{{service_name="{WEB}"}}'))
    expect(_lines(page)).to_have_count(5)
    box = _box(page)
    box.fill("")
    box.press_sequentially("{")
    expect(_options(page).filter(has_text="service_name")).to_have_count(1)
    box.press_sequentially("service_n")
    expect(_options(page)).to_have_text([re.compile("^service_name")])
    box.press("Enter")
    expect(box).to_have_value("{service_name")
    # The comparisons, then the values the label takes.
    expect(_options(page).locator(".tq-label")).to_have_text(["=", "!=", "=~", "!~"])
    box.press("Enter")
    expect(box).to_have_value("{service_name=")
    expect(_options(page).filter(has_text=WEB)).to_have_count(1)
    expect(_options(page).filter(has_text=DB)).to_have_count(1)
    box.press_sequentially('"logql-w')
    expect(_options(page)).to_have_count(1)
    box.press("Enter")
    expect(box).to_have_value(f'{{service_name="{WEB}"')
    expect(page.get_by_role("listbox", name="LogQL completions")).to_be_hidden()

    # After `|`: the line filters, the stages, and the labels of the lines shown.
    box.press_sequentially("} |")
    expect(_options(page).locator(".tq-label").first).to_have_text("|=")
    box.press_sequentially(" lo")
    expect(_options(page)).to_have_text([re.compile("^logfmt")])
    box.press("Escape")
    expect(page.get_by_role("listbox", name="LogQL completions")).to_be_hidden()
    for _ in " lo":
        box.press("Backspace")
    box.press_sequentially(" http_")
    expect(_options(page)).to_have_text([re.compile("^http_route.*structured metadata")])
    box.press("Enter")
    box.press("Enter")  # =
    expect(box).to_have_value(f'{{service_name="{WEB}"}} | http_route=')
    expect(_options(page).locator(".tq-label")).to_have_text(["/cart", "/checkout"])
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value(f'{{service_name="{WEB}"}} | http_route="/checkout"')
    box.press("Enter")
    expect(_lines(page)).to_have_text(["GET /checkout 500"])

    # A regex comparison takes the value escaped.
    box.fill("{service_name=~")
    box.press("Control+Space")
    expect(_options(page).filter(has_text=DB)).to_have_count(1)
    _options(page).filter(has_text=DB).click()
    expect(box).to_have_value(f'{{service_name=~"{DB}"')


@pytest.mark.parametrize(
    ("query", "column", "marked"),
    [
        (f'{{service_name="{WEB}"}} |= ', 31, " "),  # the end of the text
        (f'{{service_name="{WEB}" |= "GET"', 27, "|"),
    ],
)
def test_a_parse_error_is_shown_at_its_column(
    ui: UI, t0: int, query: str, column: int, marked: str
) -> None:
    page = ui.open(_logs(t0))
    box = _box(page)
    box.fill(query)
    box.press("Enter")
    problem = page.locator(".logql .tq-error")
    expect(problem).to_contain_text(f"parse error at line 1, col {column}")
    expect(page.locator(".logql .tq-mark")).to_have_text(marked)
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("table.logs")).to_have_count(0)
    expect(page.locator(".volume canvas")).to_have_count(0)
    problem.get_by_role("button", name=f"Go to line 1, column {column}").click()
    assert box.evaluate("el => el.selectionStart") == column - 1
    box.press_sequentially("x")  # editing clears the mark: it points into the old text
    expect(problem).to_be_hidden()


def test_the_histogram_counts_the_lines_by_level(ui: UI, t0: int) -> None:
    page = ui.open(_logs(t0, q='{service_name=~"logql-.*"}'))
    expect(_lines(page)).to_have_count(len(RECORDS))
    totals: dict[str, int] = {}
    for _, _, level, _, _ in RECORDS:
        totals[level] = totals.get(level, 0) + 1
    legend = page.locator(".volume .volume-level")
    expect(legend).to_have_count(len(totals))
    found = legend.evaluate_all("els => els.map((e) => [e.dataset.level, e.dataset.total])")
    assert {level: int(total) for level, total in found} == totals
    assert [level for level, _ in found] == ["debug", "info", "warn", "error"]  # bottom up
    expect(page.locator(".volume .chart")).to_have_attribute("data-step", "5")
    expect(page.locator(".volume canvas")).to_have_count(1)

    # A line filter counts only the lines it keeps.
    page = ui.open(_logs(t0, q=f'{{service_name="{WEB}"}} |= "GET"'))
    expect(legend).to_have_count(3)
    found = legend.evaluate_all("els => els.map((e) => [e.dataset.level, e.dataset.total])")
    assert found == [["info", "2"], ["warn", "1"], ["error", "1"]]


def test_a_metric_query_is_plotted(ui: UI, t0: int) -> None:
    query = 'sum by (service_name) (count_over_time({service_name=~"logql-.*"}[5m]))'
    page = ui.open(_logs(t0, q=query))
    rows = page.locator(".promql-result tr.promql-series")
    expect(rows.locator("td.legend")).to_have_text(
        [f'{{service_name="{DB}"}}', f'{{service_name="{WEB}"}}']
    )
    # Once the five-minute window holds every line: five from each service.
    highest = rows.evaluate_all("rows => rows.map((r) => r.cells[3].dataset.value)")
    assert highest == ["5", "5"]
    expect(page.locator(".volume")).to_be_empty()
    expect(page.locator("table.logs")).to_have_count(0)


def test_no_histogram_and_no_complaint_where_metric_queries_are_refused(ui: UI, t0: int) -> None:
    page = ui.page

    def refused(route: Route) -> None:
        if "count_over_time" in route.request.url:
            route.fulfill(
                status=400,
                content_type="text/plain; charset=utf-8",
                body="metric queries (count_over_time, rate, sum by ...) are not supported yet",
            )
        else:
            route.continue_()

    page.route("**/loki/api/v1/query_range?*", refused)
    page = ui.open(_logs(t0, q=f'{{service_name="{WEB}"}}'))
    expect(_lines(page)).to_have_count(5)
    expect(page.locator(".volume")).to_be_empty()
    expect(page.locator(".api-error, .tq-error:not(.hidden)")).to_have_count(0)

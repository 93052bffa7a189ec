"""TraceQL on the traces page, in a real Chromium: the form writes the query it means, the
box runs it on Tempo's search API, completes from the tag APIs, shows parse errors at their
column, and the trace view marks the spans the query matched."""

from __future__ import annotations

import os
import re
import time
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import wait_for
from tests.ui.conftest import UI, Filled
from tests.ui.telemetry import HOSTILE

pytestmark = pytest.mark.slow


SERVICE = "quoting"
ODD_KEY = f'say "hi" {HOSTILE}'
"""A span attribute name TraceQL can only write quoted, with escapes."""
ODD_VALUE = 'C:\\tmp "x"'
ROUND_TRIPS = [
    (ODD_KEY, ODD_VALUE),
    ("5xx", "line\nbreak\ttab\x01 del\x7f"),  # `.5` would read as a number
    ("ünï cödé 😀", '😀 "q" \\'),
    ("next\x85line", "v"),  # a space to Go, not to JavaScript's \s
]
"""Attribute names and values of the sent trace that TraceQL must write with care."""


def _attribute(key: str, value: dict[str, str]) -> dict[str, object]:
    return {"key": key, "value": value}


@pytest.fixture(scope="module")
def quoting_trace(filled: Filled) -> str:
    """The id of a small trace sent now: its names are among the newest spans, which the
    tag APIs sample (the shop's may be older than a large trace another test sent)."""
    trace_id = os.urandom(16).hex()
    now = time.time_ns()
    root, child = os.urandom(8).hex(), os.urandom(8).hex()
    spans = [
        {
            "traceId": trace_id,
            "spanId": root,
            "name": "tq.root",
            "kind": 2,
            "startTimeUnixNano": str(now - 3_000_000),
            "endTimeUnixNano": str(now),
            "attributes": [
                _attribute("tq.code", {"intValue": "7"}),
                *(_attribute(key, {"stringValue": value}) for key, value in ROUND_TRIPS),
            ],
        },
        {
            "traceId": trace_id,
            "spanId": child,
            "parentSpanId": root,
            "name": "tq.child",
            "kind": 1,
            "startTimeUnixNano": str(now - 2_000_000),
            "endTimeUnixNano": str(now - 1_000_000),
            "attributes": [_attribute("tq.code", {"intValue": "8"})],
        },
    ]
    resource = {"attributes": [_attribute("service.name", {"stringValue": SERVICE})]}
    body = {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}
    server = filled.server
    response = httpx.post(f"{server.otlp_http}/v1/traces", json=body, timeout=10)
    assert response.status_code == 200, response.text
    query = {"q": f'{{ resource.service.name = "{SERVICE}" }}'}

    def arrived() -> bool:
        response = httpx.get(f"{server.url}/api/search", params=query, timeout=5)
        return response.status_code == 200 and len(response.json()["traces"]) == 1

    wait_for(arrived, what="the trace")
    return trace_id


def _box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="TraceQL query")


def _options(page: Page) -> Locator:
    return page.get_by_role("listbox", name="TraceQL completions").get_by_role("option")


def _traces(query: str) -> str:
    """The traces page running ``query``."""
    return "/traces?q=" + quote(query, safe="")


def test_the_form_writes_the_traceql_it_means(ui: UI, filled: Filled) -> None:
    page = ui.open("/traces?service=payments&status=error&minDuration=1ms")
    box = _box(page)
    expect(box).to_have_value(
        '{ resource.service.name = "payments" && status = error && duration >= 1ms }'
    )
    # Editing the form rewrites the query; strings and names are escaped as TraceQL reads them.
    page.locator("select[name=status]").select_option("")
    page.locator("input[name=minDuration]").fill("90")
    page.locator("input[name=name]").fill('say "hi" \\ bye')
    page.locator("input[name=attr]").first.fill("odd key=C:\\tmp")
    expect(box).to_have_value(
        '{ resource.service.name = "payments" && name = "say \\"hi\\" \\\\ bye"'
        ' && duration >= 90s && ."odd key" = "C:\\\\tmp" }'
    )
    # The server reads it back as meant: it parses, and nothing matches.
    page.get_by_role("button", name="Run TraceQL").click()
    expect(page.locator(".empty")).to_contain_text("No trace matches this query")
    expect(page.locator(".tq-error")).to_be_hidden()

    # The query the form wrote finds what the form finds.
    page = ui.open("/traces")
    page.locator("select[name=service]").select_option("payments")
    page.locator("select[name=status]").select_option("error")
    expect(box).to_have_value('{ resource.service.name = "payments" && status = error }')
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=%7B\+resource\.service\.name"))
    expect(page.locator("select[name=service]")).to_have_value("")  # the query rules now
    table = page.locator("table.traces")
    expect(table).to_contain_text(filled.failed_trace)
    expect(table).not_to_contain_text(filled.ok_trace)
    page.get_by_role("button", name="Search").click()  # the form's own search still works
    expect(page).to_have_url(re.compile(r"/traces$"))
    expect(box).to_have_value("{}")


def test_a_traceql_query_lists_the_traces_it_matches(ui: UI, filled: Filled) -> None:
    page = ui.open(_traces('{ name = "cart.load" } && { status = error }'))
    table = page.locator("table.traces")
    expect(table).to_contain_text(filled.failed_trace)
    expect(table).not_to_contain_text(filled.ok_trace)
    expect(page.locator(".scatter canvas")).to_have_count(1)

    page = ui.open(_traces('{ resource.service.name = "cart" } | count() > 1'))
    row = page.locator("table.traces tbody tr", has_text=filled.ok_trace)
    expect(row.locator("td.matched-count")).to_have_text("2")  # cart.load, SELECT carts
    expect(row.locator("td").nth(3)).to_have_text("4")  # spans, from the service stats
    expect(row).to_contain_text("POST /checkout")
    link = row.locator("a.trace-link")
    expect(link).to_have_attribute("href", re.compile(r"\?match=[0-9a-f]{16}%2C[0-9a-f]{16}$"))


def test_a_parse_error_is_shown_at_its_column(ui: UI, filled: Filled) -> None:
    page = ui.open("/traces")
    box = _box(page)
    box.fill("{ status = error && }")
    box.press("Enter")
    problem = page.locator(".tq-error")
    expect(problem).to_contain_text("parse error at line 1, col 21")
    excerpt = problem.locator("pre").text_content()
    assert excerpt == "{ status = error && }\n" + " " * 20 + "^"
    expect(page.locator(".tq-mark")).to_have_text("}")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(page.locator("table.traces")).to_have_count(0)

    # A second line, and the way to the position.
    box.fill("{ status = error }\n| count( > 2")
    page.get_by_role("button", name="Run TraceQL").click()
    expect(problem).to_contain_text("parse error at line 2, col 10")
    expect(page.locator(".tq-mark")).to_have_text(">")
    problem.get_by_role("button", name="Go to line 2, column 10").click()
    assert box.evaluate("el => [el.selectionStart, el.selectionEnd]") == [28, 29]
    box.press("End")
    box.press_sequentially(")")  # editing clears the mark: it points into the old text
    expect(page.locator(".tq-mark")).to_have_count(0)
    expect(box).not_to_have_attribute("aria-invalid", "true")

    # Other refusals show their message, with nothing to mark.
    page = ui.open(_traces("{}") + "&limit=20000")
    expect(problem).to_contain_text("limit: expected an integer from 1 to 10000")
    expect(page.locator(".tq-mark")).to_have_count(0)


def test_completion_offers_names_and_values_from_the_server(ui: UI, quoting_trace: str) -> None:
    page = ui.open("/traces")
    box = _box(page)
    box.fill("")
    box.press_sequentially("{ ")
    expect(_options(page).first).to_contain_text("span.")
    expect(_options(page).filter(has_text="intrinsic").first).to_contain_text("name")
    box.press_sequentially("resource.service.n")
    expect(_options(page)).to_have_count(1)
    expect(_options(page)).to_contain_text("resource.service.name")
    box.press("Enter")
    expect(box).to_have_value("{ resource.service.name ")
    expect(_options(page).first).to_contain_text("=")  # the comparisons come next
    box.press("Tab")
    expect(box).to_have_value("{ resource.service.name = ")
    expect(_options(page).filter(has_text=SERVICE)).to_have_count(1)  # seen by the server
    box.press_sequentially("quo")
    expect(_options(page)).to_have_count(1)
    box.press("Enter")
    expect(box).to_have_value(f'{{ resource.service.name = "{SERVICE}" ')
    expect(page.get_by_role("listbox", name="TraceQL completions")).to_be_hidden()

    # An unscoped name; an int value goes in bare; the mouse picks too.
    box.press_sequentially("&& .tq.c")
    expect(_options(page)).to_have_text([re.compile(r"^\.tq\.code")])
    box.press("Enter")
    box.press("Enter")
    expect(_options(page)).to_have_count(2)  # 7 and 8
    _options(page).filter(has_text="8").click()
    expect(box).to_have_value(f'{{ resource.service.name = "{SERVICE}" && .tq.code = 8 ')
    box.press_sequentially("&& st")
    expect(_options(page)).to_have_count(2)  # status, statusMessage
    box.press("Escape")
    expect(page.get_by_role("listbox", name="TraceQL completions")).to_be_hidden()
    for _ in "&& st":
        box.press("Backspace")
    box.press_sequentially("}")
    box.press("Enter")
    row = page.locator("table.traces tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(quoting_trace)
    expect(row.locator("td.matched-count")).to_have_text("1")  # the child

    # Ctrl+Space asks at the caret; the whole token around it is replaced.
    box.fill('{ resource.service.name = "qxx" }')
    box.evaluate("el => el.setSelectionRange(28, 28)")  # after "q
    box.press("Control+Space")
    expect(_options(page)).to_have_text([re.compile(f"^{SERVICE}")])
    box.press("Enter")
    expect(box).to_have_value(f'{{ resource.service.name = "{SERVICE}" }}')


def test_names_and_values_complete_escaped(ui: UI, quoting_trace: str) -> None:
    page = ui.open("/traces")
    box = _box(page)
    box.fill("")
    box.press_sequentially("{ say")  # a name is found by its key, whatever its scope
    name = 'span."say \\"hi\\" <img src=x onerror=alert(1)>"'
    expect(_options(page)).to_have_text([re.compile("^" + re.escape(name))])
    box.press("Enter")
    box.press("Enter")
    expect(_options(page)).to_have_count(1)
    box.press("Enter")
    expect(box).to_have_value(f'{{ {name} = "C:\\\\tmp \\"x\\"" ')
    box.press_sequentially("}")
    box.press("Enter")  # the server reads both back as they were sent
    expect(page.locator("table.traces tbody tr")).to_have_count(1)
    expect(page.locator("table.traces")).to_contain_text(quoting_trace)
    assert page.locator("img").count() == 0


def test_the_trace_view_marks_the_spans_the_query_matched(ui: UI, filled: Filled) -> None:
    page = ui.open(_traces('{ resource.service.name = "cart" }'))
    page.locator("table.traces tr", has_text=filled.ok_trace).locator("a.trace-link").click()
    expect(page).to_have_url(re.compile(f"/trace/{filled.ok_trace}\\?match="))
    matched = page.locator(".waterfall .row.matched")
    expect(matched.locator(".span-name")).to_have_text(["cart.load", "SELECT carts"])
    expect(matched.get_by_role("img", name="matched by the query")).to_have_count(2)
    expect(page.locator(".trace-header")).to_contain_text("2 spans matched the query")
    # Selecting a span keeps the marks (and they survive a reload: they are in the URL).
    page.locator(".row", has_text="payments.charge").click()
    expect(page).to_have_url(re.compile(r"match=.*span=|span=.*match="))
    page.reload()
    expect(page.locator(".row.selected")).to_contain_text("payments.charge")
    expect(page.locator(".waterfall .row.matched")).to_have_count(2)


def test_names_and_strings_are_written_as_the_server_reads_them(ui: UI, quoting_trace: str) -> None:
    page = ui.open("/traces")
    expect(_box(page)).to_be_visible()
    # Each name, scoped and not, and each value, written by traceql.js and searched for.
    found = page.evaluate(
        """async (cases) => {
            const { attributeName, quoteString } = await import("/ui/js/traceql.js");
            const out = [];
            for (const [key, value] of cases) {
                const q = `{ ${attributeName("", key)} = ${quoteString(value)}`
                    + ` && ${attributeName("span", key)} != nil }`;
                const response = await fetch(`/api/search?q=${encodeURIComponent(q)}`);
                const text = await response.text();
                out.push(response.ok ? JSON.parse(text).traces.map((t) => t.traceID) : [q, text]);
            }
            return out;
        }""",
        ROUND_TRIPS,
    )
    assert found == [[quoting_trace.lstrip("0")]] * len(ROUND_TRIPS)

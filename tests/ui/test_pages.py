"""The web UI in a real headless Chromium, against otelite filled by the OpenTelemetry SDK."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.ui.conftest import UI, Filled
from tests.ui.telemetry import HOSTILE

pytestmark = pytest.mark.slow


def _rows(ui: UI) -> list[tuple[str, int]]:
    """(span name, depth) of each waterfall row in the DOM, top to bottom."""
    rows = ui.page.locator(".waterfall .row")
    expect(rows.first).to_be_visible()
    found = []
    for row in rows.all():
        name = row.locator(".span-name").inner_text()
        found.append((name, int(row.get_attribute("data-depth") or -1)))
    return found


def test_search_finds_the_failed_trace_and_opens_it(ui: UI, filled: Filled) -> None:
    page = ui.open("/traces?service=payments&status=error")
    table = page.locator("table.traces")
    expect(table).to_contain_text(filled.failed_trace)
    expect(table).not_to_contain_text(filled.ok_trace)
    expect(page.locator(".scatter canvas")).to_have_count(1)
    page.locator("table.traces a.trace-link").first.click()
    expect(page).to_have_url(re.compile(f"/trace/{filled.failed_trace}$"))
    expect(page.locator(".trace-header")).to_contain_text("1 errors")


def test_search_form_writes_the_url_and_the_url_reopens_the_view(
    ui: UI, filled: Filled, browser: Browser
) -> None:
    page = ui.open("/traces")
    page.locator("select[name=service]").select_option("payments")
    page.locator("select[name=status]").select_option("error")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"service=payments.*status=error"))
    expect(page.locator("table.traces")).to_contain_text(filled.failed_trace)
    shared = page.url

    other = browser.new_page()
    other.goto(shared)
    expect(other.locator("select[name=service]")).to_have_value("payments")
    expect(other.locator("select[name=status]")).to_have_value("error")
    expect(other.locator("table.traces tbody tr")).to_have_count(1)
    other.close()

    page.go_back()
    expect(page).to_have_url(re.compile(r"/traces$"))


def test_waterfall_nests_spans_and_collapses(ui: UI, filled: Filled) -> None:
    ui.open(f"/trace/{filled.ok_trace}")
    assert _rows(ui) == [
        ("POST /checkout", 0),
        ("cart.load", 1),
        ("SELECT carts", 2),
        ("payments.charge", 1),
    ]
    ui.page.locator(".row", has_text="POST /checkout").locator("button.toggle").click()
    assert _rows(ui) == [("POST /checkout", 0)]
    ui.page.locator(".row", has_text="POST /checkout").locator("button.toggle").click()
    assert len(_rows(ui)) == 4


def test_span_detail_shows_typed_attributes_and_survives_a_reload(ui: UI, filled: Filled) -> None:
    page = ui.open(f"/trace/{filled.ok_trace}")
    page.locator(".row", has_text="POST /checkout").click()
    expect(page).to_have_url(re.compile(r"span=[0-9a-f]{16}"))
    detail = page.locator(".span-detail")
    expected = {
        "http.response.status_code": ("200", "int"),
        "cart.total": ("99.5", "double"),
        "user.vip": ("true", "bool"),
        "cart.items": ('["apple","pear"]', "array"),
        "http.request.method": ("POST", "string"),
    }
    for key, (value, kind) in expected.items():
        row = detail.locator("table.attributes").first.locator("tr", has_text=key)
        expect(row.locator("td.value")).to_have_text(value)
        expect(row.locator(".type")).to_have_text(kind)
    expect(detail).to_contain_text("service.version")  # the resource
    expect(detail).to_contain_text("shop.frontend")  # the scope

    page.reload()
    expect(page.locator(".span-detail h2")).to_have_text("POST /checkout")
    expect(page.locator(".row.selected")).to_contain_text("POST /checkout")


def test_links_and_events_show_in_the_detail(ui: UI, filled: Filled) -> None:
    page = ui.open(f"/trace/{filled.ok_trace}")
    page.locator(".row", has_text="cart.load").click()
    expect(page.locator(".span-detail .event")).to_contain_text("cache miss")
    page.locator(".row", has_text="payments.charge").click()
    link = page.locator(".span-detail .link a")
    expect(link).to_contain_text(filled.ok_trace)
    link.click()
    expect(page.locator(".span-detail h2")).to_have_text("cart.load")


def test_log_to_trace_and_span_to_logs(ui: UI, filled: Filled) -> None:
    page = ui.open("/logs?service=payments")
    row = page.locator("tr.log", has_text="card declined")
    expect(row).to_have_count(1)
    expect(row.locator(".line")).to_contain_text('"attempt":2')  # the JSON body, as its line
    row.locator("a.trace-link").click()
    expect(page).to_have_url(re.compile(f"/trace/{filled.failed_trace}\\?span="))
    expect(page.locator(".span-detail h2")).to_have_text("payments.charge")

    page.get_by_role("link", name="Logs for this span").click()
    expect(page).to_have_url(re.compile(f"traceId={filled.failed_trace}.*spanId="))
    expect(page.locator("tr.log")).to_have_count(1)
    expect(page.locator("tr.log")).to_contain_text("card declined")
    page.go_back()
    expect(page.locator(".span-detail h2")).to_have_text("payments.charge")


def test_services_show_red_and_operations(ui: UI, filled: Filled) -> None:
    page = ui.open("/services?service=payments")
    payments = page.locator("table.services tr", has_text="payments")
    expect(payments.locator(".error-count")).to_have_text("25.0%")  # 1 of 4 charges failed
    expect(payments.locator("canvas")).to_have_count(3)  # rate, errors, p95 sparklines
    operations = page.locator("table.operations")
    expect(operations).to_contain_text("payments.charge")
    expect(page.locator(".charts3 canvas")).to_have_count(3)


@pytest.mark.parametrize(
    ("metric", "kind", "plotted"),
    [
        ("http.server.requests", "sum", "rate per second"),
        ("http.server.request.duration", "histogram", "p50 / p95 / p99"),
        ("cart.queue.depth", "gauge", "value"),
    ],
)
def test_a_metric_plots(ui: UI, filled: Filled, metric: str, kind: str, plotted: str) -> None:
    page = ui.open("/metrics")
    page.locator("a.metric-link", has_text=metric).click()
    expect(page).to_have_url(re.compile(f"metric={re.escape(metric)}&type={kind}"))
    plot = page.locator(".metric-plot")
    expect(plot).to_contain_text(plotted)
    expect(plot.locator("canvas")).to_have_count(1)
    expect(plot.locator(".u-legend")).to_be_visible()


def test_hostile_strings_render_as_text(ui: UI, filled: Filled) -> None:
    page = ui.open("/traces")
    expect(page.locator("table.traces")).to_contain_text(HOSTILE)
    page = ui.open(f"/trace/{filled.hostile_trace}")
    expect(page.locator(".trace-header h1")).to_contain_text(HOSTILE)
    page.locator(".row").first.click()
    row = page.locator(".span-detail table.attributes tr", has_text="onerror").first
    expect(row.locator("td.key")).to_have_text(HOSTILE)
    expect(row.locator("td.value")).to_have_text(HOSTILE)
    assert page.locator("img").count() == 0
    ui.open("/services?service=frontend")
    expect(page.locator("table.operations")).to_contain_text(HOSTILE)
    assert page.locator("img").count() == 0
    # The fixture asserts that no dialog opened.


def test_empty_results_teach_how_to_send_data(ui: UI, filled: Filled) -> None:
    page = ui.open("/traces?service=no-such-service")
    empty = page.locator(".empty")
    server = filled.server
    # The ports the server listens on (free ones here), not the defaults.
    expect(empty).to_contain_text(f"OTEL_EXPORTER_OTLP_ENDPOINT={server.otlp_http}\n")
    expect(empty.locator("code.otlp-grpc")).to_have_text(f"http://{server.otlp_grpc}")
    expect(empty.locator(".server-info")).to_contain_text("data kept in memory")
    expect(empty).to_contain_text("No trace matches these filters")

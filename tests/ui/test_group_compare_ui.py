"""The traces page's duration scatter: dragging out an area compares its traces' spans
with the rest, in a real headless Chromium against otelite filled by the SDK."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import UI, Filled
from tests.ui.telemetry import HOSTILE

pytestmark = pytest.mark.slow


def test_an_area_of_the_scatter_is_compared_with_the_rest(ui: UI, filled: Filled) -> None:
    page = ui.open("/traces")
    expect(page.locator("table.traces")).to_contain_text(filled.failed_trace)
    over = page.locator(".scatter .u-over")
    box = over.bounding_box()
    assert box is not None
    # The whole plot: every trace of the page's range, by duration and by start.
    with page.expect_request(re.compile(r"/api/compare\?")) as sent:
        page.mouse.move(box["x"] + 1, box["y"] + 1)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] - 1, box["y"] + box["height"] - 1, steps=8)
        page.mouse.up()
    asked = parse_qs(urlparse(sent.value.url).query)
    assert re.fullmatch(
        r"\{ traceDuration >= \d+us && traceDuration <= \d+us \}", asked["selection"][0]
    )
    assert float(asked["selectionStart"][0]) < float(asked["selectionEnd"][0])
    panel = page.locator(".group-comparison")
    expect(panel.locator("h2")).to_contain_text("against the rest")
    rows = panel.locator("table.comparison tbody tr")
    expect(rows.first).to_be_visible()
    # The drag's closing click picked no trace: the page stayed.
    assert urlparse(page.url).path == "/traces"
    # Every span of the range is in the area; the count shown is the API's own.
    params = {k: v[0] for k, v in asked.items()}
    answer = httpx.get(f"{filled.server.url}/api/compare", params=params, timeout=10).json()
    expect(panel.locator("p.muted").first).to_contain_text(
        f"{answer['selection']['spans']} spans selected, 0 in the baseline"
    )
    spans = sum(
        t["spanCount"]
        for t in httpx.get(
            f"{filled.server.url}/api/search/traces",
            params={"start": asked["start"][0], "end": asked["end"][0], "limit": "1000"},
            timeout=10,
        ).json()["traces"]
    )
    assert answer["selection"]["spans"] == spans
    services = panel.locator("tr.compared-value", has_text="resource.service.name")
    expect(services.first).to_be_visible()
    panel.get_by_role("button", name="Close").click()
    expect(panel).to_be_hidden()


def test_two_ticked_traces_are_compared(ui: UI, filled: Filled) -> None:
    page = ui.open("/traces")
    button = page.get_by_role("button", name="Compare the two ticked")
    expect(button).to_be_disabled()
    for trace_id in (filled.ok_trace, filled.failed_trace):
        page.get_by_role("checkbox", name=f"compare trace {trace_id}").check()
    button.click()
    expect(page).to_have_url(re.compile(f"/compare\\?a={filled.ok_trace}&b={filled.failed_trace}$"))
    rows = page.locator("table.aligned-traces tbody tr")
    # The same checkout twice: every (service, operation) path in both, none added or lost.
    expect(rows).to_have_count(4)
    assert [row.locator(".span-name").inner_text() for row in rows.all()] == [
        "POST /checkout",
        "cart.load",
        "SELECT carts",
        "payments.charge",
    ]
    assert [int(row.get_attribute("data-depth") or -1) for row in rows.all()] == [0, 1, 2, 1]
    expect(
        page.locator("table.aligned-traces tr.added, table.aligned-traces tr.missing")
    ).to_have_count(0)


def test_another_root_is_added_and_the_old_one_missing(ui: UI, filled: Filled) -> None:
    page = ui.open(f"/compare?a={filled.ok_trace}&b={filled.hostile_trace}")
    # The hostile checkout's root has another name: its whole tree is new, a's is gone.
    summary = page.locator(".compare-summary")
    expect(summary).to_contain_text("4 added")
    expect(summary).to_contain_text("4 missing")
    expect(page.locator("table.aligned-traces")).to_contain_text(HOSTILE)


def test_a_click_on_a_dot_still_opens_its_trace(ui: UI, filled: Filled) -> None:
    # One trace shown: on the log scale its dot sits halfway up (the axis runs from half
    # its duration to twice it), and across at its start within the last hour.
    found = httpx.get(
        f"{filled.server.url}/api/search/traces",
        params={"service": "payments", "status": "error"},
        timeout=10,
    ).json()["traces"]
    assert [t["traceId"] for t in found] == [filled.failed_trace]
    opened = time.time()
    page = ui.open("/traces?service=payments&status=error")
    expect(page.locator("table.traces tbody tr")).to_have_count(1)
    box = page.locator(".scatter .u-over").bounding_box()
    assert box is not None
    start_s = int(found[0]["startTimeUnixNano"]) / 1e9
    x = box["x"] + box["width"] * (start_s - (opened - 3600)) / 3600
    page.mouse.click(x, box["y"] + box["height"] / 2)
    expect(page).to_have_url(re.compile(f"/trace/{filled.failed_trace}"))


def test_the_spans_a_query_matches_are_compared_with_the_rest(ui: UI, filled: Filled) -> None:
    # Where errors start: the failing spans none of whose children failed (the charge).
    origins = "{ status = error } !< { status = error }"
    page = ui.open(f"/traces?q={quote(origins)}")
    expect(page.locator("table.traces")).to_contain_text(filled.failed_trace)
    with page.expect_request(re.compile(r"/api/compare\?")) as sent:
        page.get_by_role("button", name="Compare the matched spans with the rest").click()
    asked = {k: v[0] for k, v in parse_qs(urlparse(sent.value.url).query).items()}
    assert asked["selection"] == origins and "selectionStart" not in asked
    panel = page.locator(".group-comparison")
    expect(panel.locator("h2")).to_contain_text("the spans the query matches against the rest")
    answer = httpx.get(f"{filled.server.url}/api/compare", params=asked, timeout=10).json()
    assert answer["selection"]["spans"] >= 1
    expect(panel.locator("p.muted").first).to_contain_text(
        f"{answer['selection']['spans']} spans selected, {answer['baseline']['spans']} in"
    )
    charge = panel.locator("tr.compared-value", has_text="payments.charge")
    expect(charge.first).to_be_visible()


def test_every_span_has_nothing_to_be_compared_with(ui: UI, filled: Filled) -> None:
    page = ui.open(f"/traces?q={quote('{ }')}")
    expect(page.locator("table.traces")).to_contain_text(filled.failed_trace)
    expect(page.locator("button.compare-matched")).to_have_count(0)

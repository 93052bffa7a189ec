"""A 10,000-span trace: the waterfall keeps only the rows in view in the DOM."""

from __future__ import annotations

import os
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import UI, Filled

pytestmark = pytest.mark.slow

SPANS = 10_000
ROW_HEIGHT = 24  # px, as in trace.js


def _big_trace(trace_id: str) -> dict[str, object]:
    start = time.time_ns() - 5_000_000_000
    spans = []
    for i in range(SPANS):
        # A bushy tree: span i's parent is span (i - 1) // 4.
        spans.append(
            {
                "traceId": trace_id,
                "spanId": f"{i + 1:016x}",
                "parentSpanId": "" if i == 0 else f"{(i - 1) // 4 + 1:016x}",
                "name": f"span-{i}",
                "kind": 1,
                "startTimeUnixNano": str(start + i * 100_000),
                "endTimeUnixNano": str(start + i * 100_000 + 50_000_000 // (1 + i % 7)),
                "attributes": [{"key": "index", "value": {"intValue": str(i)}}],
            }
        )
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "bulk"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


def test_a_10000_span_trace_stays_responsive(ui: UI, filled: Filled) -> None:
    trace_id = os.urandom(16).hex()
    response = httpx.post(
        f"{filled.server.otlp_http}/v1/traces", json=_big_trace(trace_id), timeout=30
    )
    assert response.status_code == 200, response.text
    url = filled.server.url
    for _ in range(200):
        if httpx.get(f"{url}/api/traces/{trace_id}", timeout=10).status_code == 200:
            break
        time.sleep(0.05)

    started = time.perf_counter()
    page = ui.open(f"/trace/{trace_id}")
    expect(page.locator(".trace-header")).to_contain_text(f"{SPANS} spans")
    expect(page.locator(".waterfall .row").first).to_be_visible()
    opened = time.perf_counter() - started
    rows = page.locator(".waterfall .row").count()
    assert 10 < rows < 120, rows
    height = page.locator(".waterfall .spacer").evaluate("el => el.offsetHeight")
    assert height == SPANS * ROW_HEIGHT

    # Find a deep span: it is revealed, scrolled to and selected; the DOM stays small.
    started = time.perf_counter()
    page.get_by_placeholder("Find in trace").fill("span-9999")
    page.get_by_placeholder("Find in trace").press("Enter")
    expect(page.locator(".row.selected .span-name")).to_have_text("span-9999")
    expect(page.locator(".span-detail h2")).to_have_text("span-9999")
    found = time.perf_counter() - started
    assert page.locator(".waterfall .row").count() < 120

    # Collapsing the root hides the other 9,999 rows.
    page.locator(".waterfall .viewport").evaluate("el => { el.scrollTop = 0; }")
    page.locator(".row", has_text="span-0").first.locator("button.toggle").click()
    expect(page.locator(".waterfall .row")).to_have_count(1)
    print(f"10k-span trace: opened in {opened:.2f}s, search+reveal in {found:.2f}s")

"""The trace view marks the critical path: which spans, their share, and a switch to hide it."""

from __future__ import annotations

import os
import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import UI, Filled

pytestmark = pytest.mark.slow

MS = 1_000_000


def _trace(trace_id: str) -> dict[str, object]:
    start = time.time_ns() - 5_000_000_000

    def span(number: int, parent: int, name: str, begin_ms: int, end_ms: int) -> dict[str, str]:
        return {
            "traceId": trace_id,
            "spanId": f"{number:016x}",
            "parentSpanId": f"{parent:016x}" if parent else "",
            "name": name,
            "startTimeUnixNano": str(start + begin_ms * MS),
            "endTimeUnixNano": str(start + end_ms * MS),
        }

    # By hand: back from 100 ms, publish (cut at the root's end), the root 70-80, the
    # query 10-70, the root 0-10; the cache read ends after the query began: off the path.
    spans = [
        span(1, 0, "place order", 0, 100),
        span(2, 1, "cache read", 5, 20),
        span(3, 1, "insert query", 10, 70),
        span(4, 1, "publish", 80, 150),
    ]
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


def test_the_critical_path_is_marked_with_shares(ui: UI, filled: Filled) -> None:
    trace_id = os.urandom(16).hex()
    response = httpx.post(f"{filled.server.otlp_http}/v1/traces", json=_trace(trace_id), timeout=30)
    assert response.status_code == 200, response.text
    for _ in range(200):
        if httpx.get(f"{filled.server.url}/api/traces/{trace_id}", timeout=10).status_code == 200:
            break
        time.sleep(0.05)

    page = ui.open(f"/trace/{trace_id}")
    expect(page.locator(".path-info")).to_contain_text("3 spans · most: insert query 60%")
    on_path = page.locator(".row.on-path .span-name")
    expect(on_path).to_have_text(["place order", "insert query", "publish"])
    expect(page.locator(".row", has_text="insert query").locator(".path-share")).to_have_text("60%")
    expect(page.locator(".row", has_text="cache read").locator(".path-share")).to_have_count(0)
    # The root's two stretches (0-10, 70-80 ms) under its bar; the trace lasts 150 ms.
    stretches = page.locator(".row", has_text="place order").locator(".path-stretch")
    expect(stretches).to_have_count(2)
    assert stretches.nth(1).evaluate("el => el.style.left").startswith("46.6")

    page.locator(".path-info input").uncheck()
    expect(page).to_have_url(re.compile(r"cp=off"))
    expect(page.locator(".row.on-path")).to_have_count(0)
    page.reload()
    expect(page.locator(".path-info input")).not_to_be_checked()
    expect(page.locator(".row.on-path")).to_have_count(0)
    page.locator(".path-info input").check()
    expect(page.locator(".row.on-path")).to_have_count(3)

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

    page.locator(".row", has_text="insert query").click()
    critical = page.locator(".span-detail dl.facts dd").last
    expect(critical).to_have_text("60.0 ms on it (60%)")

    page.locator(".path-info input").uncheck()
    expect(page).to_have_url(re.compile(r"cp=off"))
    expect(page.locator(".row.on-path")).to_have_count(0)
    page.reload()
    expect(page.locator(".path-info input")).not_to_be_checked()
    expect(page.locator(".row.on-path")).to_have_count(0)
    page.locator(".path-info input").check()
    expect(page.locator(".row.on-path")).to_have_count(3)


def test_the_critical_path_of_many_traces(ui: UI, filled: Filled) -> None:
    tag = os.urandom(4).hex()
    for _ in range(2):
        trace = _trace(os.urandom(16).hex())
        for span in trace["resourceSpans"][0]["scopeSpans"][0]["spans"]:  # type: ignore[index]
            span["name"] = f"{span['name']} {tag}"
        response = httpx.post(f"{filled.server.otlp_http}/v1/traces", json=trace, timeout=30)
        assert response.status_code == 200, response.text
    query = f'{{ name = "place order {tag}" }}'
    page = ui.open("/traces")
    page.get_by_label("TraceQL query").fill(query)
    page.get_by_role("button", name="Run TraceQL").click()
    expect(page.locator(".count")).to_contain_text("2 traces")
    page.get_by_role("link", name="Critical path of these traces").click()
    expect(page).to_have_url(re.compile(r"/critical-path\?q="))
    expect(page.locator(".path-summary .selection")).to_contain_text("2 traces")
    expect(page.locator(".path-summary .baseline")).to_contain_text("the other traces")
    # Each trace: the query 60 ms of a 100 ms path, the root and publish 20 ms each; the
    # baseline's operations (the other traces') follow, with no share of the selection.
    rows = page.locator("tr.path-operation")
    expect(rows.nth(3).locator("td").nth(3)).to_have_text("0.0%")
    for i in range(3):
        expect(rows.nth(i)).to_contain_text(tag)
    expect(rows.nth(0)).to_contain_text(f"insert query {tag}")
    expect(rows.nth(0).locator("td").nth(3)).to_have_text("60.0%")
    expect(rows.nth(0).locator("td").nth(5)).to_have_text("+60.0 pp")
    expect(rows.nth(0).locator("td").nth(7)).to_have_text("2 / 2")
    rows.nth(0).locator("a.example").click()
    expect(page).to_have_url(re.compile(r"/trace/[0-9a-f]{32}$"))
    expect(page.locator(".path-info")).to_contain_text(f"most: insert query {tag} 60%")
    page.go_back()

    page.get_by_label("baseline", exact=True).select_option("before")
    page.get_by_role("button", name="Compare").click()
    expect(page).to_have_url(re.compile(r"vs=before"))
    expect(page.locator(".path-summary .baseline")).to_contain_text("0 traces")

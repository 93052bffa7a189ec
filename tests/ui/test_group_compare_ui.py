"""The traces page's duration scatter: dragging out an area compares its traces' spans
with the rest, in a real headless Chromium against otelite filled by the SDK."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import UI, Filled

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

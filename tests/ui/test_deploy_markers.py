"""The services page marks each deploy on the service's charts, with its version."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from otelite.api import create_app
from otelite.storage import WriteBatch
from tests.analysis.deploy_samples import END, MS, T0, export_request
from tests.api.served import Served
from tests.backends import BACKENDS, store

pytestmark = pytest.mark.slow

RANGE = f"start={T0 // MS}&end={END // MS}"


@pytest.fixture(scope="module", params=BACKENDS)
def base(request: pytest.FixtureRequest) -> Iterator[str]:
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[export_request()]))
        served = Served(create_app(opened))
        try:
            yield served.url
        finally:
            served.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    opened = browser.new_page(viewport={"width": 1400, "height": 900})
    opened.set_default_timeout(10_000)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    opened.close()
    assert errors == [], f"script errors on the page: {errors}"


def test_each_chart_marks_the_deploy_with_its_version(base: str, page: Page) -> None:
    page.goto(f"{base}/services?service=clean&{RANGE}")
    markers = page.locator(".charts3 .chart-marker")
    expect(markers).to_have_count(3)  # rate, errors, latency
    for i in range(3):
        expect(markers.nth(i)).to_be_visible()
        expect(markers.nth(i)).to_have_text("2.0")
    expect(page.locator("table.deployments")).to_contain_text("1.0")


def test_a_rollback_is_marked_as_one(base: str, page: Page) -> None:
    page.goto(f"{base}/services?service=rollback&{RANGE}")
    chart = page.locator(".charts3 .chart").first
    expect(chart.locator(".chart-marker")).to_have_text(["b", "a (rollback)"])
    # The later deploy is further right.
    first, second = (chart.locator(".chart-marker").nth(i).bounding_box() for i in range(2))
    assert first is not None and second is not None and first["x"] < second["x"]


def test_a_service_without_deploys_has_no_markers(base: str, page: Page) -> None:
    page.goto(f"{base}/services?service=steady&{RANGE}")
    expect(page.locator(".charts3 canvas")).to_have_count(3)
    expect(page.locator(".chart-marker")).to_have_count(0)
    expect(page.locator("table.deployments")).to_have_count(0)

"""The SLOs page in a real browser: the status table and one SLO's budget and burn charts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.ui.conftest import UI, Filled

pytestmark = pytest.mark.slow

SLO = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: payments-charges, displayName: Payments charges}
spec:
  service: payments
  budgetingMethod: Occurrences
  objectives: [{displayName: two nines, target: 0.99}]
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: otelite, spec: {service: payments}}}
        total: {metricSource: {type: otelite, spec: {service: payments}}}
"""


@pytest.fixture
def slo(filled: Filled) -> Iterator[str]:
    url = f"{filled.server.url}/api/slos/payments-charges"
    assert httpx.put(url, content=SLO, timeout=10).status_code == 201
    yield "payments-charges"
    httpx.delete(url, timeout=10)


def test_no_slos_says_how_to_make_one(ui: UI) -> None:
    page = ui.open("/slos")
    expect(page.locator("section.empty")).to_contain_text("otelite slo apply")


def test_the_table_shows_each_objective_and_a_click_draws_its_charts(
    ui: UI, filled: Filled, slo: str
) -> None:
    status = httpx.get(f"{filled.server.url}/api/slos/{slo}/status", timeout=10).json()
    [objective] = status["objectives"]
    page = ui.open("/slos?range=15m")
    row = page.locator(f"table.slos tr[data-slo={slo}]")
    expect(row).to_contain_text("two nines")
    expect(row.locator("td.sli")).to_have_text(
        f"{objective['sli'] * 100:.3f}".rstrip("0").rstrip(".") + "%"
    )
    row.get_by_role("link", name=slo).click()
    expect(page).to_have_url(f"{filled.server.url}/slos?range=15m&slo={slo}")
    expect(page.locator("h2")).to_have_text("Payments charges")
    expect(page.locator(".budget-chart canvas")).to_have_count(1)
    expect(page.locator(".burn-chart canvas")).to_have_count(1)
    expect(page.locator(".burn-chart")).to_contain_text("page at 14.4")

"""The service map page in a real headless Chromium, over the shop's telemetry."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.ui.conftest import UI

pytestmark = pytest.mark.slow


def test_the_map_draws_the_shop_and_a_click_opens_a_service(ui: UI) -> None:
    page = ui.open("/traces")
    page.locator("nav a", has_text="Map").click()
    expect(page).to_have_url(re.compile(r"/map$"))
    # The shop's three services, the database cart queries, and the user who calls the
    # frontend (its root spans); cart's database call and the user's call are edges.
    # Other browser tests add services of their own to the same store (a batch job, a
    # versioned service), so the shop's part of the map is what is checked.
    shop = {"frontend", "cart", "payments", "duckdb", "user"}
    expect(page.locator('g.node[data-node="payments"]')).to_be_visible()
    nodes = page.locator("svg.service-map g.node")
    names = {node.get_attribute("data-node") for node in nodes.all()}
    assert shop <= names
    kinds = {
        name: page.locator(f'g.node[data-node="{name}"]').get_attribute("class") for name in shop
    }
    assert "node-database" in (kinds["duckdb"] or "")
    assert "node-client" in (kinds["user"] or "")
    edges = {
        (e.get_attribute("data-client"), e.get_attribute("data-server"))
        for e in page.locator("svg.service-map path.edge").all()
    }
    assert {(client, server) for client, server in edges if {client, server} <= shop} == {
        ("user", "frontend"),
        ("cart", "duckdb"),
    }
    # Callers are drawn left of what they call.
    user, frontend = (
        page.locator(f'g.node[data-node="{n}"]').bounding_box() for n in ("user", "frontend")
    )
    assert user is not None and frontend is not None and user["x"] < frontend["x"]
    expect(page.locator("table.map-nodes")).to_contain_text("payments")

    page.locator('g.node[data-node="payments"]').click()
    expect(page).to_have_url(re.compile(r"/services\?service=payments$"))
    expect(page.locator("h2")).to_contain_text("payments")
    # From the service to its requests: a TraceQL search matching its entry spans.
    page.get_by_text("Its requests among the traces").click()
    expect(page).to_have_url(re.compile(r"/traces\?q=.*payments"))
    expect(page.locator("table.traces td.matched-count").first).to_have_text("1")


def test_a_week_shows_the_map_of_its_last_day_and_says_so(ui: UI) -> None:
    # The map reads at most 24 hours; the picker offers 7 days.
    page = ui.open("/map?range=7d")
    expect(page.locator("p.clipped")).to_contain_text("last 24 hours")
    expect(page.locator('g.node[data-node="payments"]')).to_be_visible()
    assert page.locator(".api-error").count() == 0

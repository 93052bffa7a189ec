"""The web UI on a multi-tenant server: a tenant field, and only that tenant's data shown."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from otelite.types import Signal

from .data import tenant_b
from .support import Running

pytestmark = pytest.mark.slow


@pytest.fixture
def server() -> Iterator[Running]:
    running = Running(None)
    assert running.post(Signal.TRACES, tenant_b()[Signal.TRACES], "acme").status_code == 200
    running.flush()
    yield running
    running.close()


def test_the_ui_shows_the_chosen_tenants_data_only(browser: Browser, server: Running) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{server.api}/services")
        field = page.locator("form.tenant input[name=tenant]")
        expect(field).to_be_visible()
        expect(page.locator("main")).to_contain_text("X-Scope-OrgID header required")
        field.fill("acme")
        field.press("Enter")
        expect(page.locator("table.services")).to_contain_text("bravo")
        assert page.evaluate("sessionStorage.getItem('otelite.tenant')") == "acme"
        field.fill("other")
        field.press("Enter")
        expect(page.locator("main")).not_to_contain_text("bravo")
        page.reload()
        expect(page.locator("form.tenant input[name=tenant]")).to_have_value("other")
    finally:
        page.close()
    assert errors == []

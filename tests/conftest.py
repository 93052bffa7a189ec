"""Fixtures shared by several test packages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last, and are marked ``browser``: Playwright's sync API keeps an
    event loop running on the main thread for the rest of the session, and an async test
    after it could not start its own ("Cannot run the event loop while another loop is
    running"). ``make test`` runs the others in parallel processes (``-m "not browser"``),
    then these in one."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run.

    Playwright's sync API allows one instance per thread at a time, so the browser tests of
    every package (ui, tenancy) share this one instead of each starting its own.
    """
    if not CHROMIUM.exists():
        pytest.fail("the browser tests need Debian's chromium: apt-get install -y chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()

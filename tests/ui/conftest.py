"""A real otelite filled by the OpenTelemetry SDK, and a headless Chromium to look at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Dialog, Page

from tests.backends import BACKENDS
from tests.e2e.conftest import ServerProcess, storage_args, wait_for
from tests.ui.telemetry import Shop

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Filled:
    """The server and the ids of the traces the shop sent."""

    server: ServerProcess
    ok_trace: str
    failed_trace: str
    hostile_trace: str


def _count(url: str, path: str, key: str, **params: str) -> int:
    response = httpx.get(f"{url}{path}", params=params, timeout=5)
    return len(response.json()[key]) if response.status_code == 200 else 0


@pytest.fixture(scope="package", params=BACKENDS)
def filled(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Filled]:
    """otelite on each kind of store, with the shop's telemetry: every page test runs on both."""
    where = tmp_path_factory.mktemp("ui")
    server = ServerProcess(
        None, where / "server.log", extra_args=storage_args(request.param, where)
    )
    server.start()
    shop = Shop(server.otlp_http)
    try:
        ok = shop.checkout()
        failed = shop.checkout(fail=True)
        hostile = shop.checkout(hostile=True)
        shop.flush()  # the counter's first point; the second makes a rate
        shop.checkout()
        shop.flush()
        url = server.url
        wait_for(lambda: _count(url, "/api/search/traces", "traces") >= 4, what="traces")
        wait_for(lambda: _count(url, "/api/search/logs", "logs") >= 5, what="logs")
        wait_for(lambda: _count(url, "/api/metrics", "metrics") >= 3, what="metrics")
        yield Filled(server, ok, failed, hostile)
    finally:
        shop.shutdown()
        server.stop()


@dataclass
class UI:
    """A page on the filled server that records dialogs and script errors."""

    page: Page
    base: str
    dialogs: list[str]
    errors: list[str]

    def open(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page


@pytest.fixture
def ui(browser: Browser, filled: Filled) -> Iterator[UI]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(10_000)
    dialogs: list[str] = []
    errors: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield UI(page, filled.server.url, dialogs, errors)
    page.close()
    assert dialogs == [], "a dialog opened: something ran script from telemetry"
    assert errors == [], f"script errors on the page: {errors}"

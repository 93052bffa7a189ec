"""The web UI on a server that wants a query token: the page loads, asks for it, keeps it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ServerProcess, wait_for
from tests.ui.telemetry import Shop

pytestmark = pytest.mark.slow

TOKEN = "ui-query-Wm4xT9cQ2bLr7"
STORED = "otelite.queryToken"


@dataclass(frozen=True)
class Guarded:
    server: ServerProcess
    trace_id: str


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guarded]:
    directory = tmp_path_factory.mktemp("guarded")
    (directory / "query-tokens").write_text(f"# for the UI test\n{TOKEN}\n")
    server = ServerProcess(
        None,
        directory / "server.log",
        extra_args=["--query-token-file", str(directory / "query-tokens")],
    )
    server.start()
    shop = Shop(server.otlp_http)
    try:
        trace_id = shop.checkout()
        shop.flush()
        authorized = {"Authorization": f"Bearer {TOKEN}"}

        def arrived() -> bool:
            url = f"{server.url}/api/traces/{trace_id}"
            return httpx.get(url, headers=authorized, timeout=5).status_code == 200

        wait_for(arrived, what="the trace")
        yield Guarded(server, trace_id)
    finally:
        shop.shutdown()
        server.stop()


@pytest.mark.parametrize(
    "path",
    ["/", "/traces", "/trace/0af7651916cd43dd8448eb211c80319c", "/logs", "/services", "/metrics"],
)
def test_the_page_needs_no_token(guarded: Guarded, path: str) -> None:
    # As a browser asks for it: at /metrics, programs get otelite's own metrics instead.
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    response = httpx.get(guarded.server.url + path, headers=browser, timeout=5)
    assert response.status_code == 200
    assert '<script type="module" src="/ui/js/main.js">' in response.text


def test_static_files_need_no_token_but_the_api_and_other_paths_do(guarded: Guarded) -> None:
    with httpx.Client(base_url=guarded.server.url, timeout=5) as anonymous:
        for path in (
            "/ui/js/main.js",
            "/ui/js/sign-in.js",
            "/ui/app.css",
            "/ui/vendor/uPlot.esm.js",
        ):
            assert anonymous.get(path).status_code == 200, path
        assert anonymous.get("/ui/no-such-file.js").status_code == 404
        for path in (
            "/api/search/traces",
            f"/api/traces/{guarded.trace_id}",
            "/api/ui/info",
            "/api/metrics/x/series",
            "/nothing",
            "/trace/a/b",
        ):
            response = anonymous.get(path)
            assert response.status_code == 401, path
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="otelite"'
        authorized = anonymous.get(
            "/api/ui/info", headers={"Authorization": f"Bearer {TOKEN}"}
        ).json()
        assert authorized["otlp"]["http"] == guarded.server.otlp_http


def _signed_out(page: Page) -> None:
    """The sign-in form is up and nothing of the telemetry is on the page."""
    expect(page.locator("form.sign-in")).to_be_visible()
    expect(page.locator("table.traces")).to_have_count(0)
    assert page.evaluate(f"sessionStorage.getItem('{STORED}')") is None


def test_sign_in_keeps_the_token_for_the_tab_and_sign_out_forgets_it(
    browser: Browser, guarded: Guarded
) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{guarded.server.url}/traces")
        _signed_out(page)
        form = page.locator("form.sign-in")
        expect(form).to_contain_text("asks for a query token")

        form.get_by_label("Query token").fill("not-the-token")
        form.get_by_role("button", name="Sign in").click()
        expect(form.locator(".sign-in-problem")).to_have_text("That token was not accepted.")
        _signed_out(page)

        form.get_by_label("Query token").fill(TOKEN)
        form.get_by_role("button", name="Sign in").click()
        expect(page.locator("form.sign-in")).to_have_count(0)
        expect(page.locator("table.traces")).to_contain_text(guarded.trace_id)
        # In this tab's sessionStorage only: no cookie, nothing on disk, not in the URL.
        assert page.evaluate(f"sessionStorage.getItem('{STORED}')") == TOKEN
        assert page.evaluate("localStorage.length") == 0
        assert page.context.cookies() == []
        assert TOKEN not in page.url

        page.reload()
        expect(page.locator("table.traces")).to_contain_text(guarded.trace_id)
        expect(page.locator("form.sign-in")).to_have_count(0)

        page.get_by_role("button", name="Sign out").click()
        _signed_out(page)
        expect(page.locator("form.sign-in")).to_contain_text("Signed out")
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
        page.reload()
        _signed_out(page)

        # A token the server stops accepting (or never did) is dropped, and asked for again.
        page.evaluate(f"sessionStorage.setItem('{STORED}', 'revoked-token')")
        page.goto(f"{guarded.server.url}/logs")
        expect(page.locator("form.sign-in")).to_contain_text("no longer accepted")
        assert page.evaluate(f"sessionStorage.getItem('{STORED}')") is None
    finally:
        page.close()
    assert errors == [], f"script errors on the page: {errors}"


def test_promql_on_the_metrics_page_asks_with_the_token(browser: Browser, guarded: Guarded) -> None:
    authorized = {"Authorization": f"Bearer {TOKEN}"}
    query = {"query": "count(http_server_requests_total)"}

    def counted() -> bool:
        url = f"{guarded.server.url}/api/v1/query"
        response = httpx.get(url, params=query, headers=authorized, timeout=5)
        return response.status_code == 200 and bool(response.json()["data"]["result"])

    wait_for(counted, what="the shop's counter")
    assert httpx.get(f"{guarded.server.url}/api/v1/query", params=query).status_code == 401
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        view = f"{guarded.server.url}/metrics?q=count%28http_server_requests_total%29&mode=table"
        page.goto(view)
        expect(page.locator("form.sign-in")).to_be_visible()
        page.locator("form.sign-in").get_by_label("Query token").fill(TOKEN)
        page.locator("form.sign-in").get_by_role("button", name="Sign in").click()
        expect(page.locator(".promql-result td.num")).to_have_attribute("data-value", "1")
    finally:
        page.close()
    assert errors == [], f"script errors on the page: {errors}"

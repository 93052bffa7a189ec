"""The forwarding panel on the metrics page: each destination's state for a token with the
operator right, a short note (and no sign-out) for a token without it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import ServerProcess, free_port, wait_for
from tests.pipeline.conftest import make_traces

pytestmark = pytest.mark.slow

OPERATOR = "ui-operator-Qv3nR8tLx2"
READER = "ui-reader-Hk5wP1zMc7"
STORED = "otelite.queryToken"


@dataclass(frozen=True)
class Forwarding:
    server: ServerProcess
    dead_endpoint: str


@pytest.fixture(scope="module")
def forwarding(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Forwarding]:
    """otelite forwarding traces to a port nobody listens on, through tail sampling that
    keeps everything: one request stays queued."""
    directory = tmp_path_factory.mktemp("forwarding")
    dead = f"http://127.0.0.1:{free_port()}"
    (directory / "pipeline.yaml").write_text(
        f"exporters:\n  vendor:\n    endpoint: {dead}\n    signals: [traces]\n"
        "    processors:\n      tail_sampling:\n        decision_wait: 100ms\n"
        "        policies: [{name: all, type: always_sample}]\n"
    )
    (directory / "tokens").write_text(f"{OPERATOR} rights=query,operator\n{READER} rights=query\n")
    server = ServerProcess(
        None,
        directory / "server.log",
        extra_args=[
            *("--pipeline-file", str(directory / "pipeline.yaml")),
            *("--token-file", str(directory / "tokens")),
        ],
    )
    server.start()
    try:
        response = httpx.post(
            f"{server.otlp_http}/v1/traces",
            content=make_traces("queued", spans=2).SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=10,
        )
        assert response.status_code == 200, response.text

        def queued() -> bool:
            answer = httpx.get(
                f"{server.url}/api/forwarding",
                headers={"Authorization": f"Bearer {OPERATOR}"},
                timeout=5,
            ).json()
            return answer["destinations"][0]["queuedRequests"] == 1

        wait_for(queued, what="the request in the vendor's queue")
        yield Forwarding(server, dead)
    finally:
        server.stop()


def open_metrics(browser: Browser, server: ServerProcess, token: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(f"sessionStorage.setItem('{STORED}', '{token}')")
    page.goto(f"{server.url}/metrics")
    return page, errors


def test_the_panel_shows_each_destination(browser: Browser, forwarding: Forwarding) -> None:
    page, errors = open_metrics(browser, forwarding.server, OPERATOR)
    try:
        row = page.locator('section.forwarding tr[data-destination="vendor"]')
        expect(row).to_be_visible()
        cells = row.locator("td")
        expect(cells.nth(0)).to_contain_text(f"http/protobuf {forwarding.dead_endpoint}")
        expect(cells.nth(0)).to_contain_text("traces")
        expect(cells.nth(0)).to_contain_text("tail sampling: 1 kept, 0 dropped, 0 held")
        expect(cells.nth(2)).to_contain_text("1")  # queued: nobody listens
        expect(cells.nth(4)).to_have_text("0")  # sent
        expect(cells.nth(7)).to_have_text("0")  # dropped
    finally:
        page.close()
    assert errors == [], f"script errors on the page: {errors}"


def test_without_the_operator_right_a_note_and_the_tab_stays_signed_in(
    browser: Browser, forwarding: Forwarding
) -> None:
    page, errors = open_metrics(browser, forwarding.server, READER)
    try:
        expect(page.locator("section.forwarding")).to_contain_text(
            "needs a token with the operator right"
        )
        expect(page.locator("section.forwarding table")).to_have_count(0)
        expect(page.locator("form.sign-in")).to_have_count(0)
        assert page.evaluate(f"sessionStorage.getItem('{STORED}')") == READER
    finally:
        page.close()
    assert errors == [], f"script errors on the page: {errors}"


def test_the_dead_letter_directory_is_reported(forwarding: Forwarding) -> None:
    operator = {"Authorization": f"Bearer {OPERATOR}"}
    url = forwarding.server.url
    [vendor] = httpx.get(f"{url}/api/forwarding", headers=operator, timeout=5).json()[
        "destinations"
    ]
    kept = ("deadLetterRequests", "deadLetterBytes", "deadLettersRemoved", "deadLetterBytesRemoved")
    assert {key: vendor[key] for key in kept} == dict.fromkeys(kept, 0)
    metrics = httpx.get(f"{url}/metrics", headers=operator, timeout=5).text
    assert 'otelite_forward_dead_letter_requests{destination="vendor"} 0.0' in metrics
    assert (
        'otelite_forward_dead_letters_removed_requests_total{destination="vendor"} 0.0' in metrics
    )

"""Screenshots of every page for docs/ui.md: ``make screenshots`` (or
``python -m tests.ui.screenshots DIR``) runs otelite, sends it a shop's telemetry with the
OpenTelemetry SDK for a few seconds, and photographs each page in headless Chromium."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import httpx
from playwright.sync_api import Page, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.conftest import ServerProcess, wait_for
from tests.ui.telemetry import Shop

SECONDS_OF_TRAFFIC = 12.0


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _shoot(page: Page, url: str, path: Path, wait_for_selector: str) -> None:
    page.goto(url)
    page.wait_for_selector(wait_for_selector)
    page.wait_for_timeout(400)  # charts draw on the next frame
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(None, Path(tmp) / "server.log")
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1400, "height": 860})
                base = server.url
                _shoot(page, f"{base}/traces", out / "empty.png", ".empty")

                shop = Shop(server.otlp_http)
                begin = time.time()
                failed = ""
                n = 0
                while time.time() - begin < SECONDS_OF_TRAFFIC:
                    fail = n % 7 == 3
                    trace_id = shop.checkout(fail=fail, items=1 + n % 3)
                    failed = trace_id if fail else failed
                    n += 1
                    if n % 10 == 0:
                        shop.flush()
                    time.sleep(0.08)
                shop.flush()
                shop.shutdown()
                wait_for(
                    lambda: httpx.get(f"{base}/api/traces/{failed}").status_code == 200,
                    what="the last failed trace",
                )
                window = f"start={_iso(begin - 2)}&end={_iso(time.time() + 2)}"
                _shoot(page, f"{base}/traces?{window}", out / "traces.png", ".scatter canvas")
                trace = httpx.get(f"{base}/api/v2/traces/{failed}").json()["trace"]
                charge = next(
                    span["spanId"]
                    for rs in trace["resourceSpans"]
                    for ss in rs["scopeSpans"]
                    for span in ss["spans"]
                    if span["name"] == "payments.charge"
                )
                _shoot(page, f"{base}/trace/{failed}?span={charge}", out / "trace.png", ".row")
                _shoot(page, f"{base}/logs?{window}", out / "logs.png", ".volume canvas")
                _shoot(
                    page,
                    f"{base}/services?{window}&service=payments",
                    out / "services.png",
                    ".charts3 canvas",
                )
                _shoot(
                    page,
                    f"{base}/metrics?{window}&metric=http.server.request.duration&type=histogram",
                    out / "metrics.png",
                    ".metric-plot canvas",
                )
                by = "http_response_status_code"
                promql = f"sum by ({by}) (rate(http_server_requests_total[30s]))"
                legend = quote(f"status {{{{{by}}}}}", safe="")
                _shoot(
                    page,
                    f"{base}/metrics?{window}&q={quote(promql, safe='')}&legend={legend}",
                    out / "promql.png",
                    ".promql-result canvas",
                )
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))

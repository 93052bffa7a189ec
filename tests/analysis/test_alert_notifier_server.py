"""Alert notifications wired into the server: ``--alert-webhook`` receivers get what a
tenant's notifier is given, ``/api/alerts/receivers`` and ``/metrics`` show them, and a
tenant's outbox in its own directory is delivered after a restart."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from otelite.analysis import OUTBOX_FILE, AlertEvent
from otelite.config import Config, Tenancy, Webhook
from otelite.pipeline import TENANTS_DIR
from otelite.server import Server
from otelite.tenancy import SINGLE_TENANT
from tests.receivers.support import LoopThread

from .webhook_sink import Sink, serve_sink

pytestmark = pytest.mark.slow

SINGLE = Tenancy()
ALERT = AlertEvent(
    {"alertname": "Burn", "service": "cart"}, "firing", datetime(2026, 12, 7, tzinfo=UTC)
)


@contextmanager
def running(
    data_dir: Path, url: str, tenancy: Tenancy = SINGLE
) -> Iterator[tuple[Server, LoopThread, str]]:
    config = Config(
        data_dir=data_dir,
        port=0,
        otlp_grpc_port=0,
        otlp_http_port=0,
        retention_seconds=None,
        tenancy=tenancy,
        alert_webhooks=(Webhook(url, "pager"),),
    )
    loop = LoopThread()
    server = Server(config)
    try:
        loop.run(server.start())
        yield server, loop, f"http://127.0.0.1:{server.endpoints.api_port}"
    finally:
        loop.run(server.shutdown())
        loop.close()


def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (a deadline against hangs, not a timing assertion)."""
    for _ in range(2000):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def test_receivers_get_alerts_and_are_reported(tmp_path: Path) -> None:
    sink = Sink(script=["400"])
    with serve_sink(sink) as url, running(tmp_path, url) as (server, loop, api):
        notifiers = server.notifiers
        assert notifiers is not None
        refused = AlertEvent({"alertname": "Refused"}, "firing", ALERT.starts_at)
        loop.run(notifiers.notify(SINGLE_TENANT, [refused]))
        loop.run(notifiers.notify(SINGLE_TENANT, [ALERT]))
        until(lambda: len(sink.delivered()) == 1, "delivered")

        def receivers() -> list[dict[str, object]]:
            answer: list[dict[str, object]] = httpx.get(f"{api}/api/alerts/receivers").json()[
                "receivers"
            ]
            return answer

        until(lambda: receivers()[0]["alertsSent"] == 1, "marked")
        [pager] = receivers()
        metrics = httpx.get(f"{api}/metrics").text
    assert sink.delivered()[0].body["externalURL"] == api
    assert "x-scope-orgid" not in sink.delivered()[0].headers
    assert sink.delivered()[0].body["alerts"][0]["fingerprint"] == ALERT.fingerprint
    assert (tmp_path / OUTBOX_FILE).exists()
    assert pager["tenant"] == SINGLE_TENANT and pager["name"] == "pager"
    assert pager["url"] == url and pager["breaker"] == "closed"
    assert pager["pending"] == 0 and pager["oldestPendingSeconds"] is None
    assert pager["alertsDropped"] == 1 and pager["notificationsSent"] == 1
    [letter] = pager["deadLetters"]  # type: ignore[misc]
    assert letter["answer"] == "HTTP 400: answer 400"
    assert letter["alert"]["labels"] == {"alertname": "Refused"}
    key = f'receiver="pager",tenant="{SINGLE_TENANT}"'
    assert f"otelite_alerts_sent_total{{{key}}} 1.0" in metrics
    assert f"otelite_alerts_dropped_total{{{key}}} 1.0" in metrics
    assert f"otelite_alert_breaker_state{{{key}}} 0.0" in metrics
    assert f"otelite_alerts_pending{{{key}}} 0.0" in metrics


def test_a_tenants_pending_alerts_are_sent_after_a_restart(tmp_path: Path) -> None:
    sink = Sink(script=["503"] * 10_000)
    tenancy = Tenancy(enabled=True)
    with serve_sink(sink) as url:
        with running(tmp_path, url, tenancy) as (server, loop, _):
            assert server.notifiers is not None
            loop.run(server.notifiers.notify("acme", [ALERT]))
            until(lambda: len(sink.posts) >= 1, "a failed post")
        assert (tmp_path / TENANTS_DIR / "acme" / OUTBOX_FILE).exists()
        assert sink.delivered() == []
        sink.script.clear()
        with running(tmp_path, url, tenancy) as (server, _, _):
            until(lambda: len(sink.delivered()) == 1, "delivered after the restart")
    assert sink.delivered()[0].body["alerts"][0]["labels"] == dict(ALERT.labels)
    assert sink.delivered()[0].headers["x-scope-orgid"] == "acme"

"""Alert notifications to webhooks: the message, retries, the breaker, and restarts."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from otelite.analysis import (
    AlertNotifier,
    Backoff,
    Breaker,
    Condition,
    SloCatalog,
    webhook_message,
)
from otelite.tenancy import SINGLE_TENANT
from tests.api.served import Served

AT = 1_780_000_000 * 10**9  # 2026-05-28T20:26:40Z
LABELS = {"alertname": "SLOFastBurn", "severity": "page", "slo": "pay", "objective": "0"}


def condition(holds: bool) -> Condition:
    return Condition("pay", "0", "SLOFastBurn", holds, 20.0, LABELS, {"summary": "burning"})


class Receiver:
    """A webhook that answers each request with the next of ``script`` (then 200)."""

    def __init__(self) -> None:
        self.script: list[int] = []
        self.got: list[tuple[dict[str, str], Any]] = []
        self.taken: list[Any] = []

        async def hook(request: Request) -> Response:
            body = await request.json()
            self.got.append((dict(request.headers), body))
            status = self.script.pop(0) if self.script else 200
            if status == 200:
                self.taken.append(body)
            return JSONResponse({}, status_code=status)

        self._served = Served(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
        self.url = f"{self._served.url}/hook"

    def close(self) -> None:
        self._served.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def notifier(catalog: SloCatalog, *urls: str, failures: int = 5) -> AlertNotifier:
    return AlertNotifier(
        catalog,
        urls,
        backoff=Backoff(base_s=0.01, cap_s=0.02),
        breaker_failures=failures,
        breaker_cooldown_s=60.0,
        poll_s=0.05,
        rng=random.Random(1),
    )


def run_until(sender: AlertNotifier, done: Callable[[], bool], seconds: float = 0.0) -> None:
    """Run ``sender`` until ``done()`` (then ``seconds`` more, to catch extra messages)."""

    async def go() -> None:
        sender.start()
        try:
            deadline = time.monotonic() + 30
            while not done():
                assert time.monotonic() < deadline, "no notification arrived"
                await asyncio.sleep(0.01)
            await asyncio.sleep(seconds)
        finally:
            await sender.shutdown()

    asyncio.run(go())


def test_the_message_is_alertmanagers() -> None:
    catalog = SloCatalog(None)
    alerts = catalog.book("acme").alerts
    [fired] = alerts.record("pay", [condition(True)], AT)
    [resolved] = alerts.record("pay", [condition(False)], AT + 60 * 10**9)
    message = webhook_message("acme", fired, external_url="http://otelite:3200")
    labels = {**LABELS, "tenant": "acme"}
    [alert] = message.pop("alerts")
    assert message == {
        "version": "4",
        "groupKey": '{}:{"alertname":"SLOFastBurn","slo":"pay"}',
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "otelite",
        "groupLabels": {"alertname": "SLOFastBurn", "slo": "pay"},
        "commonLabels": labels,
        "commonAnnotations": {"summary": "burning"},
        "externalURL": "http://otelite:3200",
    }
    fingerprint = alert.pop("fingerprint")
    assert len(fingerprint) == 16 and int(fingerprint, 16) >= 0
    assert alert == {
        "status": "firing",
        "labels": labels,
        "annotations": {"summary": "burning"},
        "startsAt": "2026-05-28T20:26:40.000000000Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://otelite:3200/slos?slo=pay",
    }
    [later] = webhook_message(SINGLE_TENANT, resolved)["alerts"]
    assert later["status"] == "resolved" and later["endsAt"] == "2026-05-28T20:27:40.000000000Z"
    assert "tenant" not in later["labels"]


def test_backoff_is_jittered_and_capped() -> None:
    backoff, rng = Backoff(base_s=1.0, cap_s=30.0), random.Random(7)
    for attempt in range(10):
        delays = [backoff.delay(attempt, rng) for _ in range(200)]
        limit = min(30.0, 2.0**attempt)
        assert all(0 <= d <= limit for d in delays)
        assert max(delays) > limit * 0.8  # spread over the whole range
        assert len(set(delays)) == len(delays)


def test_the_breaker_opens_waits_and_tries_once() -> None:
    now = [0.0]
    breaker = Breaker(failures=3, cooldown_s=10.0, clock=lambda: now[0])
    for _ in range(2):
        breaker.failed()
    assert (breaker.state, breaker.wait()) == ("closed", 0.0)
    breaker.failed()
    assert (breaker.state, breaker.wait()) == ("open", 10.0)
    now[0] = 10.0
    assert breaker.state == "half_open"
    breaker.failed()  # the one call let through failed: open again, for the full time
    assert (breaker.state, breaker.wait()) == ("open", 10.0)
    now[0] = 20.0
    breaker.succeeded()
    assert breaker.state == "closed"


def test_failures_are_retried_until_taken_once_in_order(receiver: Receiver) -> None:
    catalog = SloCatalog(None)
    alerts = catalog.book(SINGLE_TENANT).alerts
    sender = notifier(catalog, receiver.url)
    alerts.register([receiver.url])
    alerts.record("pay", [condition(True)], AT)
    alerts.record("pay", [condition(False)], AT + 10**9)
    receiver.script = [503, 500, 429]
    run_until(sender, lambda: not alerts.undelivered(receiver.url), seconds=0.2)
    assert [m["status"] for m in receiver.taken] == ["firing", "resolved"]
    assert len(receiver.got) == 5
    keys = [headers["idempotency-key"] for headers, _ in receiver.got]
    assert keys == [f"{SINGLE_TENANT}/1"] * 4 + [f"{SINGLE_TENANT}/2"]
    assert alerts.undelivered(receiver.url) == []


def test_a_message_refused_for_good_is_skipped(receiver: Receiver) -> None:
    catalog = SloCatalog(None)
    alerts = catalog.book(SINGLE_TENANT).alerts
    alerts.register([receiver.url])
    alerts.record("pay", [condition(True)], AT)
    alerts.record("pay", [condition(False)], AT + 10**9)
    receiver.script = [400]
    run_until(notifier(catalog, receiver.url), lambda: len(receiver.taken) == 1, seconds=0.2)
    assert [m["status"] for _, m in receiver.got] == ["firing", "resolved"]


def test_an_open_breaker_stops_calling(receiver: Receiver) -> None:
    catalog = SloCatalog(None)
    alerts = catalog.book(SINGLE_TENANT).alerts
    alerts.register([receiver.url])
    alerts.record("pay", [condition(True)], AT)
    receiver.script = [503] * 100
    sender = notifier(catalog, receiver.url, failures=3)
    run_until(sender, lambda: len(receiver.got) >= 3, seconds=0.3)
    # Three failures in a row open it; no call is made during its minute of cooldown.
    assert len(receiver.got) == 3
    assert sender.breaker(receiver.url).state == "open"
    assert len(alerts.undelivered(receiver.url)) == 1  # kept for later


def test_a_restart_sends_what_waits_and_nothing_twice(tmp_path: Path, receiver: Receiver) -> None:
    catalog = SloCatalog(tmp_path, receivers=[receiver.url])
    alerts = catalog.book(SINGLE_TENANT).alerts
    alerts.record("pay", [condition(True)], AT)
    # Until the receiver's progress is saved, not just until it took the message.
    run_until(notifier(catalog, receiver.url), lambda: not alerts.undelivered(receiver.url))
    # While no notifier runs, the alert is resolved.
    alerts.record("pay", [condition(False)], AT + 10**9)
    restarted = SloCatalog(tmp_path, receivers=[receiver.url])
    restarted.load()
    run_until(notifier(restarted, receiver.url), lambda: len(receiver.taken) == 2, seconds=0.2)
    assert [m["status"] for m in receiver.taken] == ["firing", "resolved"]
    assert len(receiver.got) == 2


def test_a_new_receiver_gets_the_changes_from_then_on(receiver: Receiver) -> None:
    catalog = SloCatalog(None)
    alerts = catalog.book(SINGLE_TENANT).alerts
    alerts.record("pay", [condition(True)], AT)  # before the receiver was known
    alerts.register([receiver.url])
    alerts.record("pay", [condition(False)], AT + 10**9)
    run_until(notifier(catalog, receiver.url), lambda: len(receiver.taken) == 1, seconds=0.2)
    assert [m["status"] for m in receiver.taken] == ["resolved"]


def test_a_new_tenants_changes_all_reach_the_catalogs_receivers(receiver: Receiver) -> None:
    catalog = SloCatalog(None, receivers=[receiver.url])
    # A tenant's first alert fires before the notifier has looked at its book.
    catalog.book("acme").alerts.record("pay", [condition(True)], AT)
    run_until(notifier(catalog, receiver.url), lambda: len(receiver.taken) == 1, seconds=0.2)
    assert [m["commonLabels"]["tenant"] for m in receiver.taken] == ["acme"]


def test_receivers_no_longer_configured_are_forgotten(tmp_path: Path) -> None:
    first = SloCatalog(tmp_path, receivers=["http://a/hook", "http://b/hook"])
    alerts = first.book("acme").alerts
    alerts.record("pay", [condition(True)], AT)
    assert len(alerts.undelivered("http://b/hook")) == 1
    later = SloCatalog(tmp_path, receivers=["http://a/hook", "http://c/hook"])
    later.load()
    kept = later.book("acme").alerts
    assert len(kept.undelivered("http://a/hook")) == 1  # still waiting for a
    assert kept.undelivered("http://c/hook") == []  # c starts from now
    with pytest.raises(KeyError):
        kept.undelivered("http://b/hook")

"""The notifier against real webhook receivers (``webhook_sink``): Alertmanager's body and
headers, retries with backoff and ``Retry-After``, refusals kept as dead letters, the
circuit breaker, a stalled receiver that delays no other, states of one alert in order,
and pending alerts that outlive a restart. Waits go through a recording sleep on a
virtual clock: nothing here waits for real backoff or cool-down."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from otelite.analysis import OUTBOX_FILE, AlertEvent, DeadLetter, Notifier, ReceiverReport
from otelite.config import Webhook
from otelite.otlp import Backoff
from otelite.pipeline import BreakerState

from .webhook_sink import Sink, serve_sink

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


class VirtualTime:
    """A clock that moves only when the notifier sleeps; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0.001)


def firing(name: str, **labels: str) -> AlertEvent:
    return AlertEvent({"alertname": name, **labels}, "firing", T0, annotations={"summary": name})


def resolved(alert: AlertEvent) -> AlertEvent:
    return AlertEvent(
        alert.labels,
        "resolved",
        alert.starts_at,
        ends_at=T0 + timedelta(minutes=5),
        annotations=alert.annotations,
    )


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait for ``condition`` (a deadline against hangs, not a timing assertion)."""
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def settled(n: Notifier) -> None:
    """Wait until every receiver's outbox is empty (the receiver's answer has arrived and
    been marked, which is after the sink recorded the post)."""
    await until(lambda: all(r.pending == 0 for r in n.reports()), "nothing pending")


def notifier(
    urls: list[str],
    time: VirtualTime,
    directory: Path | None = None,
    *,
    budget: float = 3600.0,
    **options: Any,
) -> Notifier:
    webhooks = [Webhook(url, f"r{i}") for i, url in enumerate(urls)]
    return Notifier(
        webhooks,
        outbox_path=None if directory is None else directory / OUTBOX_FILE,
        external_url="http://otelite.test:3200",
        backoff=Backoff(initial=1.0, maximum=8.0, budget=budget, rng=random.Random(7)),
        sleep=time.sleep,
        clock=time.clock,
        **options,
    )


def deliver(
    url: str, time: VirtualTime, alerts: list[AlertEvent], **options: Any
) -> tuple[ReceiverReport, list[DeadLetter]]:
    """Run a notifier until ``alerts`` are delivered or given up on; its report and dead
    letters."""

    async def body() -> tuple[ReceiverReport, list[DeadLetter]]:
        n = notifier([url], time, **options)
        await n.start()
        await n.notify(alerts)
        await settled(n)
        [report] = await asyncio.to_thread(n.reports)
        letters = await asyncio.to_thread(n.dead_letters, "r0")
        await n.shutdown()
        return report, letters

    return asyncio.run(body())


@pytest.fixture
def sink() -> Iterator[tuple[Sink, str]]:
    s = Sink()
    with serve_sink(s) as url:
        yield s, url


def run(body: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(body())


def test_one_post_per_group_in_alertmanagers_shape(sink: tuple[Sink, str]) -> None:
    s, url = sink
    alerts = [firing("Burn", service="a"), firing("Burn", service="b"), firing("Latency")]

    async def body() -> None:
        n = Notifier(
            [Webhook(url, "pager", (("X-Team", "sre"),), "s3cret")],
            outbox_path=None,
            external_url="http://otelite.test:3200",
        )
        await n.start()
        await n.notify(alerts)
        await until(lambda: len(s.delivered()) == 2, "two posts")
        await settled(n)
        [report] = await asyncio.to_thread(n.reports)
        await n.shutdown()
        assert report.stats.notifications_sent == 2 and report.stats.alerts_sent == 3
        assert report.pending == 0 and report.breaker is BreakerState.CLOSED

    run(body)
    burn, latency = sorted(s.delivered(), key=lambda p: p.body["groupKey"])
    assert burn.headers["authorization"] == "Bearer s3cret"
    assert burn.headers["x-team"] == "sre"
    assert burn.headers["content-type"] == "application/json"
    assert burn.body["groupKey"] == '{}:{alertname="Burn"}'
    assert burn.body["version"] == "4" and burn.body["truncatedAlerts"] == 0
    assert burn.body["receiver"] == "pager" and burn.body["status"] == "firing"
    assert burn.body["externalURL"] == "http://otelite.test:3200"
    assert burn.body["groupLabels"] == {"alertname": "Burn"}
    assert burn.body["commonLabels"] == {"alertname": "Burn"}
    assert burn.body["commonAnnotations"] == {"summary": "Burn"}
    assert [a["labels"]["service"] for a in burn.body["alerts"]] == ["a", "b"]
    assert latency.body["commonLabels"] == {"alertname": "Latency"}
    assert [a["fingerprint"] for a in latency.body["alerts"]] == [alerts[2].fingerprint]


def test_failures_are_retried_with_growing_jittered_waits(sink: tuple[Sink, str]) -> None:
    s, url = sink
    s.script = ["500", "503", "502", "ok"]
    time = VirtualTime()
    report, _ = deliver(url, time, [firing("Burn")])
    assert report.stats.failures == 3 and report.stats.retries == 3
    assert report.last_error is not None and report.last_error.startswith("HTTP 502")
    assert [p.status for p in s.posts] == [500, 503, 502, 200]
    # Backoff: 1, 2, 4 seconds, each within ±50% (jitter).
    assert len(time.waits) == 3
    for wait, base in zip(time.waits, [1.0, 2.0, 4.0], strict=True):
        assert base * 0.5 <= wait <= base * 1.5


def test_retry_after_is_honoured(sink: tuple[Sink, str]) -> None:
    s, url = sink
    s.script = ["429:7", "503:120"]
    time = VirtualTime()
    deliver(url, time, [firing("Burn")])
    assert len(s.delivered()) == 1
    assert time.waits == [7.0, 120.0]


def test_a_refusal_is_a_dead_letter_and_the_rest_goes_on(sink: tuple[Sink, str]) -> None:
    s, url = sink
    s.script = ["400"]
    refused, later = firing("Refused"), firing("Later")

    async def body() -> None:
        time = VirtualTime()
        n = notifier([url], time)
        await n.start()
        await n.notify([refused])
        await until(lambda: len(s.posts) == 1, "the refused post")
        await n.notify([later])
        await until(lambda: len(s.delivered()) == 1, "the next alert")
        await settled(n)
        [report] = await asyncio.to_thread(n.reports)
        dead = await asyncio.to_thread(n.dead_letters, "r0")
        await n.shutdown()
        assert time.waits == []  # never retried
        assert report.stats.alerts_dropped == 1 and report.stats.alerts_sent == 1
        assert report.breaker is BreakerState.CLOSED  # a refusal is an answer
        [letter] = dead
        assert letter.alert == refused and letter.fingerprint == refused.fingerprint
        assert letter.answer == "HTTP 400: answer 400"

    run(body)
    assert [p.status for p in s.posts] == [400, 200]
    assert s.delivered()[0].body["alerts"][0]["labels"] == {"alertname": "Later"}


def test_the_breaker_opens_probes_and_closes(sink: tuple[Sink, str]) -> None:
    s, url = sink
    s.script = ["500", "500", "500", "ok"]
    time = VirtualTime()
    report, _ = deliver(url, time, [firing("Burn")], failure_threshold=2, cooldown_seconds=60.0)
    # Opened by the second failure, then again by the failed probe; closed by the probe
    # that succeeded.
    assert report.breaker_opened == 2 and report.breaker is BreakerState.CLOSED
    assert [p.status for p in s.posts] == [500, 500, 500, 200]
    # After each opening the worker waited out the rest of the cool-down: the backoff
    # wait and the breaker's wait add up to the 60 s cool-down.
    assert len(time.waits) == 5
    assert time.waits[1] + time.waits[2] == pytest.approx(60.0)
    assert time.waits[3] + time.waits[4] == pytest.approx(60.0)


def test_a_stalled_receiver_delays_no_other() -> None:
    stalled, healthy = Sink(script=["stall"]), Sink()
    with serve_sink(stalled) as slow_url, serve_sink(healthy) as url:

        async def body() -> None:
            n = notifier([slow_url, url], VirtualTime(), timeout_seconds=60.0)
            await n.start()
            await n.notify([firing("One")])
            await until(lambda: len(healthy.delivered()) == 1, "the healthy receiver's post")
            await n.notify([firing("Two")])
            await until(lambda: len(healthy.delivered()) == 2, "the healthy receiver's next")
            assert stalled.stalled == 1 and stalled.posts == []  # still hanging
            stalled.release.set()
            await until(lambda: len(stalled.delivered()) == 2, "the slow receiver catches up")
            await n.shutdown()

        run(body)


def test_states_of_one_alert_are_delivered_in_order(sink: tuple[Sink, str]) -> None:
    s, url = sink
    alert = firing("Flap")
    # Fired and resolved before anything was delivered, with another alert between.
    deliver(url, VirtualTime(), [alert, firing("Other"), resolved(alert)])
    flap = [p.body for p in s.delivered() if p.body["groupLabels"]["alertname"] == "Flap"]
    assert [b["status"] for b in flap] == ["firing", "resolved"]
    assert [len(b["alerts"]) for b in flap] == [1, 1]


def test_pending_alerts_outlive_a_restart(sink: tuple[Sink, str], tmp_path: Path) -> None:
    s, url = sink
    s.script = ["503"] * 3

    async def body() -> None:
        first = notifier([url], VirtualTime(), tmp_path, failure_threshold=1)
        await first.start()
        await first.notify([firing("Burn")])
        await until(lambda: len(s.posts) >= 1, "a failed post")
        await first.shutdown()
        second = notifier([url], VirtualTime(), tmp_path)
        await second.start()
        await until(lambda: len(s.delivered()) == 1, "delivered after the restart")
        await until(lambda: second.reports()[0].pending == 0, "marked")
        await second.shutdown()
        third = notifier([url], VirtualTime(), tmp_path)
        await third.start()
        [report] = await asyncio.to_thread(third.reports)
        await asyncio.sleep(0.1)
        await third.shutdown()
        assert report.pending == 0

    run(body)
    assert len(s.delivered()) == 1


def test_large_groups_are_split_never_truncated(sink: tuple[Sink, str]) -> None:
    s, url = sink
    alerts = [firing("Burn", service=f"s{i:02}") for i in range(25)]
    deliver(url, VirtualTime(), alerts, max_alerts_per_post=10)
    assert [len(p.body["alerts"]) for p in s.delivered()] == [10, 10, 5]
    sent = [a["labels"]["service"] for a in s.delivered_alerts()]
    assert sent == [f"s{i:02}" for i in range(25)]


def test_alerts_past_the_retry_budget_are_given_up(sink: tuple[Sink, str]) -> None:
    s, url = sink
    s.script = ["503"] * 100
    report, [letter] = deliver(url, VirtualTime(), [firing("Burn")], budget=0.0)
    assert report.stats.alerts_dropped == 1 and report.stats.failures == 1
    assert letter.answer == "retry budget spent; last answer: HTTP 503: answer 503"
    assert [p.status for p in s.posts] == [503]

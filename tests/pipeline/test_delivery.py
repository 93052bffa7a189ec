"""The ``Deliverer`` against a scripted in-memory destination, on virtual time: each
sleep is recorded and moves the breaker's clock, so the expected waits below are worked
out by hand (backoff without jitter: 1, 2, 4, 8, 8 … seconds)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from otelite.otlp import Backoff
from otelite.pipeline import Answer, BreakerState, Deliverer
from tests.pipeline.conftest import VirtualTime

pytestmark = pytest.mark.anyio

OK = Answer(True, False, "HTTP 200")
DOWN = Answer(False, True, "HTTP 503")
REFUSED = Answer(False, False, "HTTP 400: bad span")


class _NoJitter(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2  # the middle of Backoff's ±50%: the base wait itself


@dataclass
class Outbox:
    """A destination whose outbox is ``rounds`` (each a list of item names) and whose
    answers are ``script`` (then ``OK``); it records what the deliverer did, in order."""

    rounds: list[list[str]] = field(default_factory=list)
    script: list[Answer] = field(default_factory=list)
    events: list[tuple[str, ...]] = field(default_factory=list)
    fail_take: int = 0
    fail_mark: int = 0
    stall: asyncio.Event | None = None
    sending: asyncio.Event = field(default_factory=asyncio.Event)
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    async def take(self) -> Sequence[str]:
        if self.fail_take:
            self.fail_take -= 1
            raise OSError("disk full")
        if not self.rounds:
            self.idle.set()
            return []
        return self.rounds.pop(0)

    async def send(self, item: str) -> Answer:
        self.events.append(("send", item))
        self.sending.set()
        if self.stall is not None:
            await self.stall.wait()
        return self.script.pop(0) if self.script else OK

    async def delivered(self, item: str, answer: Answer) -> None:
        if self.fail_mark:
            self.fail_mark -= 1
            raise OSError("disk full")
        self.events.append(("delivered", item))

    async def refused(self, item: str, reason: str) -> None:
        self.events.append(("refused", item, reason))

    async def finish(self, items: Sequence[str]) -> None:
        self.events.append(("finish", *items))


def deliverer(
    outbox: Outbox,
    virtual: VirtualTime,
    *,
    failure_threshold: int = 100,
    deadline: Callable[[str], float] | None = None,
    **options: Any,
) -> Deliverer[str]:
    return Deliverer(
        "test",
        outbox,
        backoff=Backoff(initial=1.0, maximum=8.0, rng=_NoJitter()),
        failure_threshold=failure_threshold,
        cooldown_seconds=30.0,
        deadline=deadline,
        sleep=virtual.sleep,
        clock=virtual.clock,
        **options,
    )


async def test_transient_failures_are_retried_with_doubling_waits() -> None:
    outbox, clock = Outbox(script=[DOWN] * 5), VirtualTime()
    d = deliverer(outbox, clock)
    await d.deliver("a")
    assert clock.slept == [1.0, 2.0, 4.0, 8.0, 8.0]  # capped at the maximum
    assert outbox.events == [("send", "a")] * 6 + [("delivered", "a")]
    assert (d.stats.sent, d.stats.failed, d.stats.retried, d.stats.dead_lettered) == (1, 5, 5, 0)
    assert d.last_error == "HTTP 503"


async def test_retry_after_takes_the_place_of_the_backoff_up_to_an_hour() -> None:
    told = [Answer(False, True, "HTTP 429", retry_after=s) for s in (7.0, 0.0, 86400.0)]
    outbox, clock = Outbox(script=[*told, DOWN]), VirtualTime()
    d = deliverer(outbox, clock)
    await d.deliver("a")
    # The backoff's own sequence is not advanced by the waits it was told: its first
    # wait (1 s) comes only with the first failure that names none.
    assert clock.slept == [7.0, 0.0, 3600.0, 1.0]
    assert outbox.events[-1] == ("delivered", "a")


async def test_a_refusal_is_not_retried_and_counts_as_an_answer() -> None:
    outbox, clock = Outbox(script=[DOWN, REFUSED]), VirtualTime()
    d = deliverer(outbox, clock, failure_threshold=2)
    await d.deliver("a")
    assert outbox.events == [("send", "a"), ("send", "a"), ("refused", "a", "HTTP 400: bad span")]
    assert clock.slept == [1.0]
    assert (d.stats.sent, d.stats.failed, d.stats.dead_lettered) == (0, 1, 1)
    assert d.last_error == "HTTP 400: bad span"
    # One failure, then an answer: the failures in a row start again from none.
    assert d.breaker.consecutive_failures == 0 and d.breaker.state is BreakerState.CLOSED


async def test_a_partial_success_is_delivered_and_its_rejections_counted() -> None:
    partial = Answer(True, False, "2 spans rejected", rejected=2)
    outbox, clock = Outbox(script=[partial]), VirtualTime()
    d = deliverer(outbox, clock)
    await d.deliver("a")
    assert outbox.events == [("send", "a"), ("delivered", "a")]
    assert (d.stats.sent, d.stats.rejected_items, d.stats.retried) == (1, 2, 0)
    assert d.last_error == "2 spans rejected"


async def test_past_its_deadline_an_item_is_given_up_after_the_attempt_in_flight() -> None:
    outbox, clock = Outbox(script=[DOWN] * 10), VirtualTime()
    # Already past its deadline when taken: it is still tried once (no answer yet to keep).
    d = deliverer(outbox, clock, deadline=lambda item: time.time() - 60.0)
    await d.deliver("a")
    reason = "retry budget spent; last answer: HTTP 503"
    assert outbox.events == [("send", "a"), ("refused", "a", reason)]
    assert clock.slept == [1.0]
    assert (d.stats.failed, d.stats.retried, d.stats.dead_lettered) == (1, 0, 1)


async def test_within_its_deadline_an_item_is_retried() -> None:
    outbox, clock = Outbox(script=[DOWN] * 2), VirtualTime()
    d = deliverer(outbox, clock, deadline=lambda item: time.time() + 3600.0)
    await d.deliver("a")
    assert outbox.events == [("send", "a")] * 3 + [("delivered", "a")]


async def test_the_breaker_holds_attempts_back_for_its_cool_down() -> None:
    outbox, clock = Outbox(script=[DOWN] * 3), VirtualTime()
    d = deliverer(outbox, clock, failure_threshold=2)
    await d.deliver("a")
    # Failure 1: backoff 1. Failure 2 opens the breaker (cool-down 30): backoff 2, then
    # the rest of the cool-down, 28. The probe fails and opens it again: backoff 4, then
    # 26. The second probe is taken and closes it.
    assert clock.slept == [1.0, 2.0, 28.0, 4.0, 26.0]
    assert outbox.events == [("send", "a")] * 4 + [("delivered", "a")]
    assert d.breaker.opened_count == 2 and d.breaker.state is BreakerState.CLOSED
    assert (d.stats.failed, d.stats.retried) == (3, 3)


async def test_rounds_go_oldest_first_and_each_is_finished() -> None:
    outbox, clock = Outbox(rounds=[["a", "b"], ["c"]], script=[REFUSED]), VirtualTime()
    d = deliverer(outbox, clock)
    d.start()
    await asyncio.wait_for(outbox.idle.wait(), 30)
    outbox.idle.clear()
    outbox.rounds.append(["d"])
    d.wake()
    await asyncio.wait_for(outbox.idle.wait(), 30)
    await d.stop()
    assert outbox.events == [
        ("send", "a"),
        ("refused", "a", "HTTP 400: bad span"),
        ("send", "b"),
        ("delivered", "b"),
        ("finish", "a", "b"),
        ("send", "c"),
        ("delivered", "c"),
        ("finish", "c"),
        ("send", "d"),
        ("delivered", "d"),
        ("finish", "d"),
    ]
    assert d.current is None


async def test_a_failing_outbox_is_read_again_a_second_later() -> None:
    # The first read fails; then marking "a" fails, which drops the round: "a" was sent
    # but not marked, so it is sent again (at least once, never lost) and "b" follows.
    outbox = Outbox(rounds=[["a", "b"], ["a", "b"]], fail_take=1, fail_mark=1)
    clock = VirtualTime()
    d = deliverer(outbox, clock)
    d.start()
    await asyncio.wait_for(outbox.idle.wait(), 30)
    await d.stop()
    assert clock.slept == [1.0, 1.0]
    assert outbox.events == [
        ("send", "a"),
        ("send", "a"),
        ("delivered", "a"),
        ("send", "b"),
        ("delivered", "b"),
        ("finish", "a", "b"),
    ]
    assert d.stats.sent == 2


async def test_stop_abandons_a_stalled_send() -> None:
    outbox = Outbox(rounds=[["a"]], stall=asyncio.Event())
    d = deliverer(outbox, VirtualTime())
    d.start()
    await asyncio.wait_for(outbox.sending.wait(), 30)
    assert d.current == "a"
    await d.stop()
    await d.stop()  # safe twice
    assert outbox.events == [("send", "a")]  # neither marked nor finished: it stays queued
    assert d.stats.sent == 0


async def test_a_refused_item_is_split_and_each_part_delivered_on_its_own() -> None:
    outbox, clock = Outbox(script=[REFUSED, OK, REFUSED]), VirtualTime()
    d = deliverer(outbox, clock, split=lambda item: list(item) if len(item) > 1 else [], count=len)
    await d.deliver("abc")
    assert outbox.events == [
        ("send", "abc"),
        ("send", "a"),
        ("delivered", "a"),
        ("send", "b"),
        ("refused", "b", "HTTP 400: bad span"),
        ("send", "c"),
        ("delivered", "c"),
    ]
    assert (d.stats.sent, d.stats.dead_lettered, d.stats.failed) == (2, 1, 0)
    assert clock.slept == []


async def test_in_flight_items_go_at_once_and_a_failed_mark_sends_that_item_again() -> None:
    outbox = Outbox(rounds=[["a", "b", "c"], ["d"]], fail_mark=1, stall=asyncio.Event())
    clock = VirtualTime()
    d = deliverer(outbox, clock, in_flight=2)
    d.start()
    for _ in range(100):
        await asyncio.sleep(0)
    # Two under way, the third waits for a free place; the oldest is the current one.
    assert outbox.events == [("send", "a"), ("send", "b")]
    assert d.current == "a"
    outbox.stall.set()  # type: ignore[union-attr]
    await asyncio.wait_for(outbox.idle.wait(), 30)
    for _ in range(100):  # the last round's finish comes after its last mark
        await asyncio.sleep(0)
    await d.stop()
    # Marking "a" failed once: "a" alone was sent again a second later, nothing dropped.
    assert clock.slept == [1.0]
    assert [e for e in outbox.events if e[0] == "send"].count(("send", "a")) == 2
    delivered = [e[1] for e in outbox.events if e[0] == "delivered"]
    assert sorted(delivered) == ["a", "b", "c", "d"]
    finishes = [e for e in outbox.events if e[0] == "finish"]
    assert finishes == [("finish", "a", "b", "c"), ("finish", "d")]
    assert outbox.events.index(("finish", "a", "b", "c")) > max(
        outbox.events.index(("delivered", item)) for item in "abc"
    )
    assert d.stats.sent == 4
    assert d.current is None

"""Several batches in flight to one destination, and batches it refuses: a destination
double that holds every export until the test answers it, so that batches finish in an
order the test chooses, over a real queue on disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from otelite.pipeline import ExporterSettings, Forwarding, InMemoryConsumer
from otelite.pipeline._delivery import Answer
from otelite.pipeline._forward_batch import Batch
from otelite.types import ExportTraceServiceRequest, Signal
from tests.pipeline.conftest import make_traces, tag_of

pytestmark = pytest.mark.anyio

OK = Answer(True, False, "HTTP 200")


class HeldSender:
    """Holds each export until ``answer``; ``refuse``: tags whose exports it refuses at
    once (HTTP 400), ``taken``: tags of the exports it took, in order."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse = refuse
        self.held: dict[tuple[str, ...], asyncio.Future[Answer]] = {}
        self.exports: list[tuple[str, ...]] = []
        self.taken: list[str] = []
        self.changed = asyncio.Event()
        self.hold = True

    async def send(self, item: Batch, *, tenant_header: bool) -> Answer:
        tags = tuple(tag_of(ExportTraceServiceRequest.FromString(r.body)) for r in item.requests)
        self.exports.append(tags)
        if self.refuse.intersection(tags):
            return Answer(False, False, "HTTP 400: refused")
        if self.hold:
            future = asyncio.get_running_loop().create_future()
            self.held[tags] = future
            self.changed.set()
            answer = await future
        else:
            answer = OK
        self.taken.extend(tags)
        return answer

    def answer(self, *tags: str) -> None:
        self.held.pop(tags).set_result(OK)

    async def until_held(self, *batches: tuple[str, ...]) -> None:
        for _ in range(1000):
            if set(batches) <= set(self.held):
                return
            self.changed.clear()
            await asyncio.wait_for(self.changed.wait(), 10)
        raise AssertionError(f"never held {batches}")

    async def close(self) -> None:
        pass


def position(directory: Path) -> int:
    """The queue's sent position as a restart would read it (none saved yet: 0)."""
    path = directory / "d" / "queue" / "sent"
    return int(path.read_text()) if path.exists() else 0


async def until(check: object, what: str) -> None:
    for _ in range(1000):
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_the_sent_position_never_passes_a_batch_still_in_flight(tmp_path: Path) -> None:
    # A request per batch, three in flight; they are answered out of order.
    settings = ExporterSettings("d", "http://d.example:4318", in_flight=3, batch_max_requests=1)
    sender = HeldSender()
    forwarding = Forwarding(
        InMemoryConsumer(), [settings], directory=tmp_path, senders={"d": sender}
    )
    await forwarding.start()
    try:
        for i in range(1, 6):
            await forwarding.consume(Signal.TRACES, make_traces(f"r{i}", spans=1))
        await sender.until_held(("r1",), ("r2",), ("r3",))
        assert len(sender.held) == 3  # no more than three at once
        sender.answer("r3")
        sender.answer("r2")
        await until(lambda: sender.taken == ["r3", "r2"], "two answers")
        await asyncio.sleep(0.05)
        assert position(tmp_path) == 0  # r1 is still under way
        sender.answer("r1")
        await until(lambda: position(tmp_path) == 3, "the position to pass r1 to r3")
        await sender.until_held(("r4",), ("r5",))
        sender.answer("r5")
        await until(lambda: "r5" in sender.taken, "r5")
        await asyncio.sleep(0.05)
        assert position(tmp_path) == 3
        assert forwarding.reports()[0].queue.requests == 2
        sender.answer("r4")
        await until(lambda: position(tmp_path) == 5, "the position to pass r5")
    finally:
        await forwarding.shutdown()


async def test_a_stop_with_batches_in_flight_sends_them_again_after_the_restart(
    tmp_path: Path,
) -> None:
    settings = ExporterSettings("d", "http://d.example:4318", in_flight=2, batch_max_requests=2)
    first = HeldSender()
    forwarding = Forwarding(
        InMemoryConsumer(), [settings], directory=tmp_path, senders={"d": first}
    )
    await forwarding.start()
    tags = [f"r{i}" for i in range(1, 7)]
    for tag in tags:
        await forwarding.consume(Signal.TRACES, make_traces(tag, spans=1))
    await until(lambda: len(first.held) == 2, "two batches in flight")
    older, newer = sorted(first.held, key=lambda batch: int(batch[0][1:]))
    first.answer(*newer)  # through, but after a batch still in flight
    await until(lambda: first.taken == list(newer), "the newer batch")
    await forwarding.shutdown()  # as a crash would: the older one unanswered
    assert position(tmp_path) == int(older[0][1:]) - 1

    second = HeldSender()
    second.hold = False
    again = Forwarding(InMemoryConsumer(), [settings], directory=tmp_path, senders={"d": second})
    await again.start()
    try:
        await until(lambda: position(tmp_path) == 6, "every request")
    finally:
        await again.shutdown()
    # Nothing unsent is skipped; what went through before the stop may go again.
    assert set(second.taken) >= set(tags) - set(first.taken)
    assert set(second.taken) >= set(older)


async def test_a_refused_batch_is_split_until_only_the_refused_request_is_a_dead_letter(
    tmp_path: Path,
) -> None:
    settings = ExporterSettings("d", "http://d.example:4318", in_flight=1)
    sender = HeldSender(refuse=frozenset({"r5"}))
    forwarding = Forwarding(
        InMemoryConsumer(), [settings], directory=tmp_path, senders={"d": sender}
    )
    await forwarding.start()
    try:
        await forwarding.consume(Signal.TRACES, make_traces("r0", spans=1))
        await sender.until_held(("r0",))
        for i in range(1, 7):  # queued while r0 is in flight: one batch
            await forwarding.consume(Signal.TRACES, make_traces(f"r{i}", spans=1))
        sender.hold = False
        sender.answer("r0")
        await until(
            lambda: forwarding.reports()[0].stats.sent == 6 and position(tmp_path) == 7,
            "every request through",
        )
        [report] = forwarding.reports()
        letters = forwarding.dead_letters("d")
    finally:
        await forwarding.shutdown()
    # Halves, worked by hand: r1 to r6 refused; r1 to r3 taken; r4 to r6 refused; r4 taken;
    # r5, r6 refused; r5 refused alone (a dead letter), r6 taken.
    assert sender.exports == [
        ("r0",),
        ("r1", "r2", "r3", "r4", "r5", "r6"),
        ("r1", "r2", "r3"),
        ("r4", "r5", "r6"),
        ("r4",),
        ("r5", "r6"),
        ("r5",),
        ("r6",),
    ]
    assert sender.taken == ["r0", "r1", "r2", "r3", "r4", "r6"]
    assert [letter.seq for letter in letters] == [6]
    assert letters[0].answer == "HTTP 400: refused"
    assert (report.stats.sent, report.stats.dead_lettered) == (6, 1)

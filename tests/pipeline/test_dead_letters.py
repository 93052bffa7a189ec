"""A destination's dead-letter directory, within its bound: the oldest letters go first,
are counted, and the count survives neither more nor less than the files do."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from otelite.pipeline import Answer, ExporterSettings, Forwarding, InMemoryConsumer
from otelite.pipeline._dead_letters import DeadLetter, DeadLetters
from otelite.pipeline._forward_batch import Batch
from otelite.pipeline._forward_queue import Queued
from otelite.types import Signal
from tests.pipeline.conftest import make_traces

pytestmark = pytest.mark.anyio


def letter(seq: int, size: int) -> tuple[Queued, DeadLetter]:
    item = Queued(seq, Signal.LOGS, "t", bytes(size), 0.0)
    return item, DeadLetter(seq, Signal.LOGS, "t", f"HTTP 400: no {seq}", 1.5)


def json_bytes(seq: int) -> int:
    _, about = letter(seq, 0)
    text = json.dumps(
        {"seq": seq, "signal": "logs", "tenant": "t", "answer": about.answer, "timeUnixMs": 1500}
    )
    return len(text) + 1


def test_over_the_bound_the_oldest_letters_are_removed_and_counted(tmp_path: Path) -> None:
    # Each letter: 1000 bytes of request and its JSON. A bound of three letters' worth.
    each = 1000 + json_bytes(1)
    letters = DeadLetters(tmp_path, max_bytes=3 * each)
    letters.open()
    for seq in range(1, 6):
        letters.add(*letter(seq, 1000))
    report = letters.report()
    assert (report.requests, report.bytes) == (3, 3 * each)
    assert (report.removed_requests, report.removed_bytes) == (2, 2 * each)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"{seq:020d}.{kind}" for seq in (3, 4, 5) for kind in ("json", "logs.pb")
    ]
    assert [found.seq for found in letters.latest(10)] == [5, 4, 3]
    assert letters.latest(1)[0].answer == "HTTP 400: no 5"

    # A restart with a lower bound: the stock taken keeps the newest.
    again = DeadLetters(tmp_path, max_bytes=each)
    again.open()
    assert [found.seq for found in again.latest(10)] == [5]
    assert again.report().removed_requests == 2


def test_the_newest_letter_is_kept_even_alone_over_the_bound(tmp_path: Path) -> None:
    letters = DeadLetters(tmp_path, max_bytes=100)
    letters.open()
    letters.add(*letter(1, 500))
    letters.add(*letter(2, 500))
    assert [found.seq for found in letters.latest(10)] == [2]
    assert letters.report().requests == 1


class Refusing:
    async def send(self, item: Batch, *, tenant_header: bool) -> Answer:
        return Answer(False, False, "HTTP 400: refused")

    async def close(self) -> None:
        pass


async def test_forwarding_reports_the_directory_and_what_its_bound_removed(
    tmp_path: Path,
) -> None:
    request = make_traces("r", spans=2)
    size = len(request.SerializeToString())
    # One batch in flight, so that the letters are written in queue order.
    settings = ExporterSettings(
        "d", "http://d.example:4318", max_dead_letter_bytes=2 * size, in_flight=1
    )
    forwarding = Forwarding(
        InMemoryConsumer(),
        [settings],
        directory=tmp_path,
        senders={"d": Refusing()},
    )
    await forwarding.start()
    try:
        for _ in range(4):
            await forwarding.consume(Signal.TRACES, request)
        for _ in range(500):
            if forwarding.reports()[0].stats.dead_lettered == 4:
                break
            await asyncio.sleep(0.01)
        [report] = forwarding.reports()
    finally:
        await forwarding.shutdown()
    # Request and JSON together are over size: two letters do not fit, one does.
    assert report.stats.dead_lettered == 4
    assert (report.dead_letters.requests, report.dead_letters.removed_requests) == (1, 3)
    assert len(list((tmp_path / "d" / "dead-letter").glob("*.pb"))) == 1
    assert [found.seq for found in forwarding.dead_letters("d")] == [4]

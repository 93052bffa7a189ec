"""Tail sampling under concurrent requests: held requests are synced in shared groups, a
client is answered only once its request is synced, and the interleavings of a sync with
decisions keep what the log promises (nothing acknowledged lost, nothing kept handed on
twice by a replay).

The sampler's log writes pass a gate the test opens, so each interleaving is forced, not
hoped for; time is an injected clock and ``tick`` is called by hand.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from otelite.errors import Overloaded, Unavailable
from otelite.pipeline import InMemoryConsumer, TailSampler
from otelite.pipeline._sampling_log import SamplingLog
from otelite.types import ExportTraceServiceRequest, Signal
from tests.pipeline.test_tail_sampling import (
    ERRORS,
    Clock,
    S,
    request,
    sampler_for,
    settings,
    stored_spans,
)

ALWAYS = "{name: a, type: always_sample}"


class Gate:
    """Holds the sampler's log writes (in their sync thread) until opened; can fail them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.opened.set()
        self.fail = False
        self.groups: list[int] = []
        """Records in each group written."""
        original = SamplingLog.write

        def write(log: SamplingLog, records: list[tuple[int, str, bytes]]) -> None:
            self.entered.set()
            self.opened.wait(timeout=60)
            if self.fail:
                raise OSError(5, "Input/output error")
            original(log, records)
            self.groups.append(len(records))

        monkeypatch.setattr(SamplingLog, "write", write)

    def close(self) -> None:
        self.entered.clear()
        self.opened.clear()

    async def writing(self) -> None:
        """Wait until a write has begun (and is held at the gate)."""
        await asyncio.to_thread(self.entered.wait, 60)


class Refusals(InMemoryConsumer):
    """Refuses the next ``count`` requests (overloaded), then takes them."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def consume(self, signal: Signal, request: Any, **options: Any) -> None:
        if self.count:
            self.count -= 1
            raise Overloaded("full")
        await super().consume(signal, request, **options)


async def started(sampler: TailSampler) -> TailSampler:
    await sampler.start()
    return sampler


def consuming(sampler: TailSampler, *spans: S) -> asyncio.Task[None]:
    return asyncio.create_task(sampler.consume(Signal.TRACES, request(*spans)))


def test_concurrent_requests_share_a_sync_and_are_answered_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)

    async def run() -> None:
        clock = Clock()
        sampler = await started(sampler_for(settings(ALWAYS), clock, None, tmp_path))
        gate.close()
        first = consuming(sampler, S(1, 1))
        await gate.writing()
        # Three more arrive while the first sync runs: they wait for the next one.
        others = [consuming(sampler, S(n, n)) for n in (2, 3, 4)]
        await asyncio.sleep(0)
        assert not any(task.done() for task in (first, *others))
        assert sampler.held_traces == 0  # nothing is held before it is synced
        gate.opened.set()
        await asyncio.gather(first, *others)
        assert gate.groups == [1, 3]
        assert sampler.held_traces == 4
        # A crash: every acknowledged request is held again.
        restarted = await started(sampler_for(settings(ALWAYS), clock, None, tmp_path))
        assert restarted.held_traces == 4
        await restarted.shutdown()

    asyncio.run(run())


@pytest.mark.parametrize(
    ("policy", "first_error", "handed_on"),
    [
        # Kept: the request synced during the decision follows it, handed on once.
        (ALWAYS, False, [(1, 1, "shop"), (1, 2, "shop")]),
        # Dropped (no error in what was held when decided): the later request carries an
        # error, but follows the decision all the same.
        (ERRORS, False, []),
    ],
    ids=["kept", "dropped"],
)
def test_a_decision_between_a_requests_sync_and_its_registration(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    policy: str,
    first_error: bool,
    handed_on: list[tuple[int, int, str]],
) -> None:
    gate = Gate(monkeypatch)

    async def run() -> None:
        clock = Clock()
        consumer = InMemoryConsumer()
        chosen = settings(policy, decision_wait="1s")
        sampler = await started(sampler_for(chosen, clock, consumer, tmp_path))
        await sampler.consume(Signal.TRACES, request(S(1, 1, error=first_error)))
        clock.now += 1
        gate.close()
        racing = consuming(sampler, S(1, 2, parent=1, error=True))
        await gate.writing()
        await sampler.tick()  # trace 1 decided while its second request is being synced
        gate.opened.set()
        await racing
        # Registered after the decision, the request follows it before its client is
        # answered: nothing of it is held.
        assert sampler.held_traces == 0
        assert sorted(stored_spans(consumer)) == handed_on
        assert sampler.stats.kept + sampler.stats.dropped == 1  # one trace, one decision
        assert sampler.stats.late_kept + sampler.stats.late_dropped == 1
        # A crash now: both pieces are settled, nothing is held or handed on again.
        again = InMemoryConsumer()
        restarted = await started(sampler_for(chosen, clock, again, tmp_path))
        assert restarted.held_traces == 0
        clock.now += 1
        await restarted.tick()
        assert again.received == []
        await restarted.shutdown()

    asyncio.run(run())


def test_a_request_settled_while_an_earlier_one_of_its_trace_waits_downstream(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)

    async def run() -> None:
        clock = Clock()
        refusing = Refusals()
        chosen = settings(ALWAYS, decision_wait="1s")
        sampler = await started(sampler_for(chosen, clock, refusing, tmp_path))
        await sampler.consume(Signal.TRACES, request(S(1, 1)))
        clock.now += 1
        # The first request is refused when its trace is decided and once more when
        # offered again with the second; the second is taken.
        refusing.count = 2
        gate.close()
        racing = consuming(sampler, S(1, 2, parent=1))
        await gate.writing()
        await sampler.tick()  # kept, refused: the first request waits, unsettled
        gate.opened.set()
        await racing
        assert sorted(stored_spans(refusing)) == [(1, 2, "shop")]
        assert sampler.held_spans == 1
        # A crash: the second request's settlement names it alone, so the first is held
        # again, and follows the decision recorded with the second.
        consumer = InMemoryConsumer()
        restarted = await started(sampler_for(chosen, clock, consumer, tmp_path))
        assert restarted.held_traces == 0
        await restarted.tick()
        assert sorted(stored_spans(consumer)) == [(1, 1, "shop")]
        await restarted.shutdown()

    asyncio.run(run())


def test_a_failed_sync_fails_its_whole_group_and_holds_none_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = Gate(monkeypatch)

    async def run() -> None:
        clock = Clock()
        consumer = InMemoryConsumer()
        chosen = settings(ALWAYS, decision_wait="1s")
        sampler = await started(sampler_for(chosen, clock, consumer, tmp_path))
        await sampler.consume(Signal.TRACES, request(S(1, 1)))
        gate.close()
        gate.fail = True
        group = [consuming(sampler, S(1, 2, parent=1)), consuming(sampler, S(2, 3))]
        await gate.writing()
        gate.opened.set()
        results: list[Any] = await asyncio.gather(*group, return_exceptions=True)
        assert all(isinstance(result, Unavailable) for result in results)
        assert sampler.held_traces == 1 and sampler.held_spans == 1
        gate.fail = False
        clock.now += 1
        await sampler.tick()
        assert sorted(stored_spans(consumer)) == [(1, 1, "shop")]
        # The client sends trace 2 again; once it is decided, nothing pins the log:
        # the failed group's sequence numbers are not waited for.
        await sampler.consume(Signal.TRACES, request(S(2, 3)))
        clock.now += 1
        await sampler.tick()
        assert sorted(stored_spans(consumer)) == [(1, 1, "shop"), (2, 3, "shop")]
        await sampler.shutdown()
        assert list((tmp_path / "held").iterdir()) == []

    asyncio.run(run())


class Payloads(InMemoryConsumer):
    """Keeps the serialized form each traces request came with, whether it came parsed,
    and the count of items it came with."""

    def __init__(self) -> None:
        super().__init__()
        self.payloads: list[bytes | None] = []
        self.parsed: list[bool] = []
        self.items: list[int | None] = []

    async def consume(self, signal: Signal, request: Any, **options: Any) -> None:
        self.payloads.append(options.get("payload"))
        self.parsed.append(request is not None)
        self.items.append(options.get("items"))
        await super().consume(signal, request, **options)


def test_requests_are_handed_on_as_received_or_cut_to_their_kept_traces(
    tmp_path: Path,
) -> None:
    async def run() -> None:
        clock = Clock()
        consumer = Payloads()
        chosen = settings(ERRORS, decision_wait="1s")
        sampler = await started(sampler_for(chosen, clock, consumer, tmp_path))
        whole = request(S(1, 1, error=True), S(2, 2, service="pay", error=True))
        mixed = request(S(1, 3, parent=1), S(3, 4, service="pay"))
        await sampler.consume(Signal.TRACES, whole, payload=whole.SerializeToString())
        await sampler.consume(Signal.TRACES, mixed, payload=mixed.SerializeToString())
        clock.now += 1
        await sampler.tick()
        assert len(consumer.received) == 2
        # Every trace of the first kept: its very bytes are handed on, not parsed again,
        # with its count of spans.
        assert consumer.payloads[0] == whole.SerializeToString()
        assert consumer.received[0][1] == whole
        assert (consumer.parsed[0], consumer.items[0]) == (False, 2)
        # Trace 3 dropped: the second is cut to trace 1's span, and the bytes given are
        # a serialization of the very request handed on.
        payload = consumer.payloads[1]
        assert payload is not None
        assert ExportTraceServiceRequest.FromString(payload) == consumer.received[1][1]
        assert consumer.parsed[1]
        assert sorted(stored_spans(consumer)) == [(1, 1, "shop"), (1, 3, "shop"), (2, 2, "pay")]
        await sampler.shutdown()

    asyncio.run(run())


class Stalling(InMemoryConsumer):
    """Takes each request once ``go`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.go = asyncio.Event()
        self.entered = asyncio.Event()

    async def consume(self, signal: Signal, request: Any, **options: Any) -> None:
        self.entered.set()
        await self.go.wait()
        await super().consume(signal, request, **options)


@pytest.mark.parametrize("durable", [False, True], ids=["memory", "log"])
def test_a_round_whose_caller_is_cancelled_still_carries_out_what_it_took(
    tmp_path: Path, durable: bool
) -> None:
    # The tick task is cancelled (as at shutdown) while kept spans are being handed on:
    # the round goes on, so what it took off the lists is neither lost nor left undone.
    async def run() -> None:
        clock = Clock()
        stalling = Stalling()
        chosen = settings(ALWAYS, decision_wait="1s")
        sampler = await started(sampler_for(chosen, clock, stalling, tmp_path if durable else None))
        await sampler.consume(Signal.TRACES, request(S(1, 1)))
        clock.now += 1
        ticking = asyncio.create_task(sampler.tick())
        await stalling.entered.wait()
        ticking.cancel()
        with pytest.raises(asyncio.CancelledError):
            await ticking
        stalling.go.set()
        await sampler.shutdown()
        assert sorted(stored_spans(stalling)) == [(1, 1, "shop")]
        assert sampler.stats.kept == 1 and sampler.held_traces == 0
        if durable:  # carried out and recorded: nothing is held again
            assert list((tmp_path / "held").iterdir()) == []

    asyncio.run(run())

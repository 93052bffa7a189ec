"""Batches of queued requests: joined byte for byte, one signal and tenant each, within
their bounds, and the sent position that moves only over what went through."""

from __future__ import annotations

import random

from otelite.pipeline._forward_batch import Batch, SentWindow, batches
from otelite.pipeline._forward_queue import Queued
from otelite.types import ExportTraceServiceRequest, Signal
from tests.pipeline.conftest import make_logs, make_metrics, make_traces, tag_of


def queued(seq: int, body: bytes, signal: Signal = Signal.TRACES, tenant: str = "t") -> Queued:
    return Queued(seq, signal, tenant, body, 1000.0 + seq)


def test_a_batch_is_its_requests_joined_and_parses_as_one_request_of_all_their_entries() -> None:
    requests = [make_traces(f"r{i}", spans=i + 1) for i in range(4)]
    bodies = [request.SerializeToString() for request in requests]
    batch = Batch.of([queued(i + 1, body) for i, body in enumerate(bodies)])
    assert batch.body == bodies[0] + bodies[1] + bodies[2] + bodies[3]
    # Built by hand: one request holding every request's resource entry, in order.
    expected = ExportTraceServiceRequest()
    for request in requests:
        expected.resource_spans.extend(request.resource_spans)
    assert ExportTraceServiceRequest.FromString(batch.body) == expected
    assert batch.enqueued_at == 1001.0


def test_batches_never_mix_signals_or_tenants_and_keep_each_ones_order() -> None:
    rng = random.Random(7)
    makers = {Signal.TRACES: make_traces, Signal.METRICS: make_metrics, Signal.LOGS: make_logs}
    items = []
    for seq in range(1, 201):
        signal = rng.choice(list(Signal))
        tenant = rng.choice(["a", "b", "c"])
        body = makers[signal](f"r{seq}").SerializeToString()  # type: ignore[operator]
        items.append(queued(seq, body, signal, tenant))
    found = batches(items, max_bytes=10**9, max_requests=10**9)
    for batch in found:
        assert {(r.signal, r.tenant) for r in batch.requests} == {(batch.signal, batch.tenant)}
    # Every request once, each signal and tenant's in queue order, one batch for each.
    assert sorted(r.seq for b in found for r in b.requests) == list(range(1, 201))
    assert len(found) == len({(item.signal, item.tenant) for item in items})
    for batch in found:
        expected = [i.seq for i in items if (i.signal, i.tenant) == (batch.signal, batch.tenant)]
        assert [r.seq for r in batch.requests] == expected
    # In the order of each batch's oldest request.
    firsts = [batch.requests[0].seq for batch in found]
    assert firsts == sorted(firsts)


def test_a_batch_is_within_its_bytes_and_requests_and_a_large_request_goes_alone() -> None:
    sizes = [300, 300, 300, 900, 2000, 100, 100, 100, 100, 100]
    items = [queued(i + 1, bytes(size)) for i, size in enumerate(sizes)]
    found = batches(items, max_bytes=1000, max_requests=3)
    # Worked by hand: 300+300+300 (900; a fourth would pass 1000), 900 alone (900+2000 is
    # over), 2000 alone (over the bound itself), 100 x 3 (three requests), 100.
    assert [[r.seq for r in b.requests] for b in found] == [[1, 2, 3], [4], [5], [6, 7, 8], [9, 10]]
    found = batches(items, max_bytes=1000, max_requests=2)
    assert [len(b.requests) for b in found] == [2, 1, 1, 1, 2, 2, 1]


def test_halves_split_a_batch_down_to_single_requests() -> None:
    requests = [make_traces(f"r{i}", spans=1).SerializeToString() for i in range(5)]
    batch = Batch.of([queued(i + 1, body) for i, body in enumerate(requests)])
    first, second = batch.halves()
    assert [r.seq for r in first.requests] == [1, 2]
    assert [r.seq for r in second.requests] == [3, 4, 5]
    assert first.body + second.body == batch.body
    assert [tag_of(ExportTraceServiceRequest.FromString(r.body)) for r in second.requests] == [
        "r2",
        "r3",
        "r4",
    ]
    assert Batch.of([queued(1, requests[0])]).halves() == []


def test_the_position_moves_only_over_requests_all_through() -> None:
    window = SentWindow(10)
    window.take([11, 12, 13])
    window.take([14, 15, 16])
    # Batches of 11 and 13, 12 and 14, 15 and 16 (grouped by tenant), finishing out of order.
    assert not window.through([15, 16])
    assert window.position == 10
    assert window.through([11, 13])
    assert window.position == 11  # 12 is still under way
    assert window.through([12, 14])
    assert window.position == 16
    assert window.empty
    assert window.last_taken == 16

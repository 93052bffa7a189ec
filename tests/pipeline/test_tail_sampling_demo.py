"""Tail sampling on the demo shop's failing payment provider, stored on both backends.

The shop runs in simulated time (a clock stepping 20 ms a reading); its trace batches go
through a tail sampler (errors, plus 10% by trace id) in front of a real ingest pipeline
and store, the sampler's clock moving half a second a batch. What should be stored is
computed from the shop's own batches: every trace with a span in error, whole, and of
the others exactly those whose trace id hash falls in the 10% (the hash as the README
defines it). No trace may be stored in part.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.config import Limits
from otelite.demo import Batch, Shop
from otelite.pipeline import IngestPipeline, TailSampler, TailSamplingSettings, parse_pipeline
from otelite.storage import Storage
from otelite.types import ExportTraceServiceRequest, Signal
from tests.backends import BACKENDS, store
from tests.demo.support import stepping_clock

SPANS = 5_000
PIPELINE = """\
processors:
  tail_sampling:
    decision_wait: 10s
    policies:
      - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
      - {name: some, type: probabilistic, probabilistic: {sampling_percentage: 10}}
"""


def shop_batches() -> list[Batch]:
    shop = Shop(
        seed=11,
        scenario="failing-payment-provider",
        fault_after=5,
        clock=stepping_clock(20.0),
        signals=[Signal.TRACES],
    )
    return list(itertools.islice(shop.batches(Signal.TRACES), SPANS // shop.batch_size))


BATCHES = shop_batches()


def spans_in(request: object) -> Iterator[Span]:
    assert isinstance(request, ExportTraceServiceRequest)
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            yield from scope_spans.spans


def spans_by_trace() -> tuple[dict[bytes, set[bytes]], set[bytes]]:
    """Span ids of each trace the shop sent, and the traces with a span in error."""
    spans: dict[bytes, set[bytes]] = defaultdict(set)
    failed: set[bytes] = set()
    for batch in BATCHES:
        for span in spans_in(batch.request()):
            spans[span.trace_id].add(span.span_id)
            if span.status.code == Status.STATUS_CODE_ERROR:
                failed.add(span.trace_id)
    return spans, failed


def split_traces() -> int:
    """Traces whose spans came in more than one batch."""
    batches: dict[bytes, set[int]] = defaultdict(set)
    for index, batch in enumerate(BATCHES):
        for span in spans_in(batch.request()):
            batches[span.trace_id].add(index)
    return sum(len(found) > 1 for found in batches.values())


def in_ten_percent(trace_id: bytes) -> bool:
    digest = hashlib.blake2b(trace_id, digest_size=8).digest()
    return int.from_bytes(digest, "big") < 2**64 // 10


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def sample_into(storage: Storage, data_dir: Path) -> None:
    pipeline = IngestPipeline(storage, wal_dir=data_dir / "wal", limits=Limits())
    await pipeline.start()
    settings = parse_pipeline(PIPELINE).tail_sampling
    assert isinstance(settings, TailSamplingSettings)
    clock = Clock()
    sampler = TailSampler(
        pipeline, settings, log_dir=data_dir / "tail-sampling", clock=clock, interval=None
    )
    await sampler.start()
    for batch in BATCHES:
        await sampler.consume(Signal.TRACES, batch.request())
        clock.now += 0.5
        await sampler.tick()
    clock.now += 10
    await sampler.tick()
    assert sampler.held_traces == 0 and sampler.stats.decided_early == 0
    await sampler.shutdown()
    await pipeline.shutdown()


@pytest.fixture(scope="module", params=BACKENDS)
def storage(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Storage]:
    with store(request.param) as opened:
        asyncio.run(sample_into(opened, tmp_path_factory.mktemp("sampled")))
        yield opened


def stored_spans(storage: Storage) -> dict[bytes, set[bytes]]:
    """Span ids of each stored trace."""
    found: dict[bytes, set[bytes]] = defaultdict(set)
    for exported in storage.export(Signal.TRACES, max_items=10_000):
        for span in spans_in(exported):
            found[span.trace_id].add(span.span_id)
    return found


def test_every_error_trace_is_stored_whole(storage: Storage) -> None:
    spans, failed = spans_by_trace()
    assert len(failed) >= 20, len(failed)  # the provider's failures, and ordinary ones
    assert split_traces() > 0  # some traces are joined across requests
    stored = stored_spans(storage)
    for trace_id in failed:
        assert stored.get(trace_id) == spans[trace_id], trace_id.hex()


def test_of_the_rest_exactly_the_hashed_tenth_is_stored_whole(storage: Storage) -> None:
    spans, failed = spans_by_trace()
    rest = [trace_id for trace_id in spans if trace_id not in failed]
    kept = [trace_id for trace_id in rest if in_ten_percent(trace_id)]
    assert 0 < len(kept) < len(rest) / 5  # about a tenth
    stored = stored_spans(storage)
    for trace_id in rest:
        assert stored.get(trace_id) == (spans[trace_id] if trace_id in kept else None)
    # Nothing else: no trace the shop did not send, none in part.
    assert set(stored) == failed | set(kept)

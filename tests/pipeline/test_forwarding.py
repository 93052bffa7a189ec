"""Forwarding to real OTLP receivers (otelite's own, over HTTP and gRPC, in front of a
consumer the test tells to accept, fail, stall or refuse), with virtual time: the
workers' sleeps return at once and move the breakers' clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.config import Tenancy
from otelite.errors import InvalidRequest, OteliteError, Overloaded, Unavailable
from otelite.pipeline import (
    BreakerState,
    ExporterSettings,
    Forwarding,
    InMemoryConsumer,
)
from otelite.receivers import GrpcReceiver, HttpReceiver
from otelite.tenancy import SINGLE_TENANT
from otelite.types import ExportRequest, ExportTraceServiceRequest, Signal
from tests.pipeline.conftest import VirtualTime, make_traces, tag_of

pytestmark = pytest.mark.anyio


@dataclass
class Destination:
    """What an OTLP receiver under test does with each request: the next scripted
    answer (an error to raise, or None to take it), then take every request."""

    script: list[OteliteError | None] = field(default_factory=list)
    refuse_all: OteliteError | None = None
    stall: asyncio.Event | None = None
    calls: int = 0
    requests: list[tuple[ExportRequest, str]] = field(default_factory=list)
    """Each request taken, as the receiver parsed it, with its tenant."""
    received: list[tuple[str, str]] = field(default_factory=list)
    """(tag, tenant) of each request taken, by its resource entries: each test request
    has one, and a batch of them one per request."""

    async def consume(
        self,
        signal: Signal,
        request: ExportRequest | None,
        *,
        tenant: str = SINGLE_TENANT,
        payload: bytes | None = None,
        items: int | None = None,
    ) -> None:
        self.calls += 1
        if self.stall is not None:
            await self.stall.wait()
        answer = self.script.pop(0) if self.script else self.refuse_all
        if answer is not None:
            raise answer
        assert isinstance(request, ExportTraceServiceRequest)
        self.requests.append((request, tenant))
        for resource in request.resource_spans:
            self.received.append(
                (tag_of(ExportTraceServiceRequest(resource_spans=[resource])), tenant)
            )


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., object]]:
    """Starts an otelite OTLP receiver (``http`` or ``grpc``) over a ``Destination``;
    returns its endpoint."""
    started: list[HttpReceiver | GrpcReceiver] = []

    async def start(destination: Destination, kind: str, *, tenancy: bool = False) -> str:
        settings = Tenancy(enabled=True, default_tenant="none") if tenancy else Tenancy()
        receiver: HttpReceiver | GrpcReceiver
        if kind == "grpc":
            receiver = GrpcReceiver(destination, port=0, tenancy=settings)
        else:
            receiver = HttpReceiver(destination, port=0, tenancy=settings)
        await receiver.start()
        started.append(receiver)
        return f"http://127.0.0.1:{receiver.port}"

    yield start
    for receiver in started:
        await receiver.shutdown()


def exporter(
    name: str, endpoint: str, protocol: str = "http/protobuf", **kw: object
) -> ExporterSettings:
    return ExporterSettings(name, endpoint, protocol, **kw)  # type: ignore[arg-type]


async def until(check: Callable[[], bool], what: str) -> None:
    for _ in range(3000):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


PROTOCOLS = [("http/protobuf", "http"), ("http/json", "http"), ("grpc", "grpc")]


@pytest.mark.parametrize(("protocol", "kind"), PROTOCOLS)
async def test_every_request_arrives_in_order_with_its_tenant(
    receivers: Callable[..., object], tmp_path: Path, protocol: str, kind: str
) -> None:
    destination = Destination()
    endpoint = await receivers(destination, kind, tenancy=True)  # type: ignore[misc]
    local = InMemoryConsumer()
    # One batch in flight, or batches may overtake each other.
    settings = exporter("d", endpoint, protocol, in_flight=1)
    forwarding = Forwarding(local, [settings], directory=tmp_path, tenant_header=True)
    await forwarding.start()
    sent = [(f"r{i}", f"tenant-{i % 2}") for i in range(6)]
    for tag, tenant in sent:
        await forwarding.consume(Signal.TRACES, make_traces(tag, spans=3), tenant=tenant)
    await until(lambda: forwarding.reports()[0].stats.sent == len(sent), "delivery")
    await forwarding.shutdown()
    # Batches are of one tenant each: the order is kept within each tenant.
    for tenant in ("tenant-0", "tenant-1"):
        arrived = [tag for tag, t in destination.received if t == tenant]
        assert arrived == [tag for tag, t in sent if t == tenant]
    assert sorted(destination.received) == sorted(sent)
    assert [tag_of(r) for _, r, _ in local.received] == [tag for tag, _ in sent]
    [report] = forwarding.reports()
    assert report.stats.sent == len(sent)


@pytest.mark.parametrize(("protocol", "kind"), PROTOCOLS)
async def test_requests_queued_meanwhile_go_out_as_one_export_per_tenant_with_every_span(
    receivers: Callable[..., object], tmp_path: Path, protocol: str, kind: str
) -> None:
    destination = Destination(stall=asyncio.Event())
    endpoint = await receivers(destination, kind, tenancy=True)  # type: ignore[misc]
    settings = exporter("d", endpoint, protocol, in_flight=1)
    forwarding = Forwarding(InMemoryConsumer(), [settings], directory=tmp_path, tenant_header=True)
    await forwarding.start()
    await forwarding.consume(Signal.TRACES, make_traces("first"), tenant="a")
    await until(lambda: destination.calls == 1, "the first request in flight")
    sent: dict[str, list[ExportTraceServiceRequest]] = {"a": [], "b": []}
    for i in range(8):  # queued while the first is in flight
        tenant = "ab"[i % 2]
        request = make_traces(f"r{i}", spans=i + 1)
        sent[tenant].append(request)
        await forwarding.consume(Signal.TRACES, request, tenant=tenant)
    destination.stall.set()  # type: ignore[union-attr]
    await until(lambda: forwarding.reports()[0].stats.sent == 9, "delivery")
    await forwarding.shutdown()
    assert destination.calls == 3  # the first, then one export per tenant
    by_tenant = {tenant: request for request, tenant in destination.requests[1:]}
    for tenant, requests in sent.items():
        # Built by hand: one request holding each request's resource entry, in order.
        expected = ExportTraceServiceRequest()
        for request in requests:
            expected.resource_spans.extend(request.resource_spans)
        assert by_tenant[tenant] == expected


@pytest.mark.parametrize("kind", ["http", "grpc"])
async def test_a_busy_destination_is_retried_after_the_time_it_asks_for(
    receivers: Callable[..., object], tmp_path: Path, kind: str
) -> None:
    # 429 with Retry-After: 7 over HTTP; RESOURCE_EXHAUSTED with RetryInfo 7s over gRPC.
    destination = Destination(script=[Overloaded("busy", retry_after=7)] * 2)
    endpoint = await receivers(destination, kind)  # type: ignore[misc]
    time = VirtualTime()
    protocol = "grpc" if kind == "grpc" else "http/protobuf"
    forwarding = Forwarding(
        InMemoryConsumer(),
        [exporter("d", endpoint, protocol)],
        directory=tmp_path,
        sleep=time.sleep,
        clock=time.clock,
    )
    await forwarding.start()
    await forwarding.consume(Signal.TRACES, make_traces("a"))
    await until(lambda: forwarding.reports()[0].stats.sent == 1, "delivery")
    await forwarding.shutdown()
    assert time.slept == [7.0, 7.0]
    stats = forwarding.reports()[0].stats
    assert (stats.failed, stats.retried, stats.sent, stats.dead_lettered) == (2, 2, 1, 0)


@pytest.mark.parametrize("kind", ["http", "grpc"])
async def test_a_refusal_for_good_goes_to_the_dead_letters_and_the_queue_moves_on(
    receivers: Callable[..., object], tmp_path: Path, kind: str
) -> None:
    destination = Destination(script=[InvalidRequest("spans.name: not allowed here")])
    endpoint = await receivers(destination, kind)  # type: ignore[misc]
    protocol = "grpc" if kind == "grpc" else "http/protobuf"
    forwarding = Forwarding(
        InMemoryConsumer(), [exporter("d", endpoint, protocol)], directory=tmp_path
    )
    await forwarding.start()
    refused = make_traces("refused")
    await forwarding.consume(Signal.TRACES, refused)
    # Sent alone (queued together, the two would be one batch, refused and then split).
    await until(lambda: destination.calls == 1, "the first attempt")
    await forwarding.consume(Signal.TRACES, make_traces("taken"))
    await until(lambda: len(destination.received) == 1, "delivery")
    [letter] = forwarding.dead_letters("d")
    await forwarding.shutdown()
    assert destination.calls == 2  # no retry of the refusal
    assert destination.received == [("taken", SINGLE_TENANT)]
    letters = tmp_path / "d" / "dead-letter"
    [body] = letters.glob("*.traces.pb")
    assert ExportTraceServiceRequest.FromString(body.read_bytes()) == refused
    [about] = letters.glob("*.json")
    answer = json.loads(about.read_text())["answer"]
    assert ("HTTP 400" if kind == "http" else "gRPC INVALID_ARGUMENT") in answer
    assert "spans.name: not allowed here" in answer
    assert letter.answer == answer
    assert forwarding.reports()[0].stats.dead_lettered == 1


async def test_a_partial_success_is_counted_and_not_sent_again(
    receivers: Callable[..., object], tmp_path: Path
) -> None:
    destination = Destination()
    endpoint = await receivers(destination, "http")  # type: ignore[misc]
    forwarding = Forwarding(InMemoryConsumer(), [exporter("d", endpoint)], directory=tmp_path)
    await forwarding.start()
    request = make_traces("partly", spans=4)
    spans = request.resource_spans[0].scope_spans[0].spans
    spans.append(Span(trace_id=bytes(16), span_id=bytes(8), name="all-zero ids: invalid"))
    await forwarding.consume(Signal.TRACES, request)
    await until(lambda: forwarding.reports()[0].stats.sent == 1, "delivery")
    await forwarding.shutdown()
    stats = forwarding.reports()[0].stats
    assert (stats.sent, stats.rejected_items, stats.retried) == (1, 1, 0)
    assert destination.calls == 1


async def test_the_breaker_opens_after_failures_in_a_row_and_closes_on_a_probe(
    receivers: Callable[..., object], tmp_path: Path
) -> None:
    # Threshold 2: failures 1 and 2 open it; the probes after each cool-down fail three
    # times (each opens it again), the fourth probe is taken and closes it.
    destination = Destination(script=[Unavailable("down")] * 5)
    endpoint = await receivers(destination, "http")  # type: ignore[misc]
    time = VirtualTime()
    settings = exporter("d", endpoint, failure_threshold=2, cooldown_seconds=30.0)
    forwarding = Forwarding(
        InMemoryConsumer(), [settings], directory=tmp_path, sleep=time.sleep, clock=time.clock
    )
    await forwarding.start()
    await forwarding.consume(Signal.TRACES, make_traces("a"))
    await until(lambda: forwarding.reports()[0].stats.sent == 1, "delivery")
    [report] = forwarding.reports()
    await forwarding.shutdown()
    assert destination.calls == 6  # nothing went out while the breaker was open
    assert report.breaker_opened == 4
    assert report.breaker is BreakerState.CLOSED
    # Each of the four openings held the next attempt back for a whole cool-down.
    assert sum(time.slept) >= 4 * 30.0


async def test_a_dead_destination_slows_neither_ingest_nor_the_other_destination(
    receivers: Callable[..., object], tmp_path: Path
) -> None:
    dead = Destination(stall=asyncio.Event())
    healthy = Destination()
    dead_endpoint = await receivers(dead, "http")  # type: ignore[misc]
    healthy_endpoint = await receivers(healthy, "grpc")  # type: ignore[misc]
    local = InMemoryConsumer()
    forwarding = Forwarding(
        local,
        [exporter("dead", dead_endpoint), exporter("healthy", healthy_endpoint, "grpc")],
        directory=tmp_path,
    )
    await forwarding.start()
    tags = [f"r{i}" for i in range(20)]
    for tag in tags:
        await forwarding.consume(Signal.TRACES, make_traces(tag, spans=2))

    def queued() -> dict[str, int]:
        return {report.name: report.queue.requests for report in forwarding.reports()}

    # The receiver has a batch before the forwarder has its answer: the healthy queue
    # is empty only once the answer is in.
    await until(lambda: queued()["healthy"] == 0, "the healthy destination's queue")
    # Batches in flight may overtake each other: every request once, in any order.
    assert sorted(tag for tag, _ in healthy.received) == sorted(tags)
    assert len(local.received) == len(tags)
    assert dead.received == []
    assert queued()["dead"] == len(tags)
    assert {r.name: r.oldest_seconds for r in forwarding.reports()}["dead"] is not None
    dead.stall.set()  # type: ignore[union-attr]
    await until(lambda: len(dead.received) == len(tags), "the late destination")
    await forwarding.shutdown()
    assert sorted(tag for tag, _ in dead.received) == sorted(tags)


async def test_what_was_queued_is_sent_after_a_restart(
    receivers: Callable[..., object], tmp_path: Path
) -> None:
    destination = Destination(refuse_all=Unavailable("down"))
    endpoint = await receivers(destination, "http")  # type: ignore[misc]
    time = VirtualTime()
    settings = exporter("d", endpoint)
    first = Forwarding(
        InMemoryConsumer(), [settings], directory=tmp_path, sleep=time.sleep, clock=time.clock
    )
    await first.start()
    tags = [f"r{i}" for i in range(5)]
    for tag in tags:
        await first.consume(Signal.TRACES, make_traces(tag))
    await until(lambda: destination.calls >= 2, "attempts")
    await first.shutdown()
    destination.refuse_all = None
    second = Forwarding(InMemoryConsumer(), [settings], directory=tmp_path)
    await second.start()
    await until(lambda: len(destination.received) == len(tags), "delivery after restart")
    await second.shutdown()
    assert sorted(tag for tag, _ in destination.received) == sorted(tags)


async def test_signals_not_asked_for_are_not_forwarded(
    receivers: Callable[..., object], tmp_path: Path
) -> None:
    local = InMemoryConsumer()
    forwarding = Forwarding(
        local,
        [exporter("d", "http://127.0.0.1:9", signals=frozenset({Signal.LOGS}))],
        directory=None,
    )
    await forwarding.start()
    await forwarding.consume(Signal.TRACES, make_traces("a"))
    [report] = forwarding.reports()
    await forwarding.shutdown()
    assert len(local.received) == 1
    assert report.queue.requests == 0


async def test_a_request_the_local_pipeline_refuses_is_queued_nowhere(tmp_path: Path) -> None:
    local = InMemoryConsumer()
    local.fail_with = Overloaded("full")
    forwarding = Forwarding(local, [exporter("d", "http://127.0.0.1:9")], directory=tmp_path)
    await forwarding.start()
    with pytest.raises(Overloaded):
        await forwarding.consume(Signal.TRACES, make_traces("a"))
    [report] = forwarding.reports()
    await forwarding.shutdown()
    assert report.queue.requests == 0

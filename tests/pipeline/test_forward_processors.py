"""An exporter's own processors: a destination is told less than the local store keeps,
and what it must not see never reaches its queue on disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otelite.pipeline import Answer, Forwarding, InMemoryConsumer, Processing, parse_pipeline
from otelite.pipeline._forward_batch import Batch
from otelite.types import ExportTraceServiceRequest, Signal
from tests.pipeline.conftest import make_traces

pytestmark = pytest.mark.anyio

FILE = """\
processors:
  redaction:                       # for everyone, the local store too
    rules:
      - {values: [credit_card], action: mask}
exporters:
  vendor:
    endpoint: http://vendor.example:4318
    processors:
      redaction:                   # for the vendor only
        rules:
          - {keys: [password], action: delete}
          - {values: [email], action: mask}
  peer:
    endpoint: http://peer.example:4318
"""

# (key, value sent, what the local store keeps, what the vendor receives, what the peer
# receives); None: the attribute is gone.
TABLE = [
    ("http.route", "/cart", "/cart", "/cart", "/cart"),
    ("password", "hunter2", "hunter2", None, "hunter2"),
    ("user.email", "ann@shop.example", "ann@shop.example", "****", "ann@shop.example"),
    (
        "note",
        "mail ann@shop.example",
        "mail ann@shop.example",
        "mail ****",
        "mail ann@shop.example",
    ),
    ("card", "4111 1111 1111 1111", "****", "****", "****"),
]


class HeldSender:
    """Keeps each request it is given; answers only once ``go`` is set."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.bodies: list[bytes] = []

    async def send(self, item: Batch, *, tenant_header: bool) -> Answer:
        await self.go.wait()
        self.bodies.append(item.body)
        return Answer(True, False, "taken")

    async def close(self) -> None:
        pass


def attributes(request: ExportTraceServiceRequest) -> dict[str, str]:
    span = request.resource_spans[0].scope_spans[0].spans[0]
    return {kv.key: kv.value.string_value for kv in span.attributes}


async def test_each_destination_gets_what_its_processors_leave(tmp_path: Path) -> None:
    pipeline = parse_pipeline(FILE, "p.yaml")
    local = InMemoryConsumer()
    senders = {"vendor": HeldSender(), "peer": HeldSender()}
    forwarding = Forwarding(
        local,
        pipeline.exporters,
        directory=tmp_path,
        senders=senders,  # type: ignore[arg-type]
    )
    receiving = Processing(forwarding, list(pipeline.processors))
    request = make_traces("t", spans=1)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    del span.attributes[:]
    span.attributes.extend(
        KeyValue(key=key, value=AnyValue(string_value=sent)) for key, sent, *_ in TABLE
    )
    await forwarding.start()
    try:
        await receiving.consume(Signal.TRACES, request, payload=request.SerializeToString())

        # Queued, not sent yet: the vendor's queue on disk holds no secret, the peer's does.
        def on_disk(name: str) -> bytes:
            files = sorted((tmp_path / name / "queue").rglob("*"))
            return b"".join(path.read_bytes() for path in files if path.is_file())

        assert b"hunter2" not in on_disk("vendor")
        assert b"ann@shop.example" not in on_disk("vendor")
        assert b"hunter2" in on_disk("peer")
        assert b"4111 1111" not in on_disk("peer")

        for sender in senders.values():
            sender.go.set()
        for _ in range(500):
            if all(sender.bodies for sender in senders.values()):
                break
            await asyncio.sleep(0.01)
    finally:
        await forwarding.shutdown()

    [(_, stored, _)] = local.received
    assert isinstance(stored, ExportTraceServiceRequest)
    kept = attributes(stored)
    vendor = attributes(ExportTraceServiceRequest.FromString(senders["vendor"].bodies[0]))
    peer = attributes(ExportTraceServiceRequest.FromString(senders["peer"].bodies[0]))
    for key, _, at_home, at_vendor, at_peer in TABLE:
        assert kept.get(key) == at_home, key
        assert vendor.get(key) == at_vendor, key
        assert peer.get(key) == at_peer, key
    assert peer == kept
    # Each redaction marks what it did; the vendor's, run last, gives the counts it sees.
    assert marks(stored) == {"redaction.masked.count": 1}  # card
    assert marks(ExportTraceServiceRequest.FromString(senders["vendor"].bodies[0])) == {
        "redaction.redacted.count": 1,  # password
        "redaction.masked.count": 2,  # user.email, note
    }


def marks(request: ExportTraceServiceRequest) -> dict[str, int]:
    span = request.resource_spans[0].scope_spans[0].spans[0]
    return {kv.key: kv.value.int_value for kv in span.attributes if kv.key.startswith("redaction.")}


async def test_a_destination_without_processors_gets_the_bytes_as_accepted(
    tmp_path: Path,
) -> None:
    pipeline = parse_pipeline(FILE, "p.yaml")
    sender = HeldSender()
    sender.go.set()
    peer = [e for e in pipeline.exporters if e.name == "peer"]
    forwarding = Forwarding(
        InMemoryConsumer(),
        peer,
        directory=None,
        senders={"peer": sender},  # type: ignore[dict-item]
    )
    request = make_traces("t", spans=2)
    payload = request.SerializeToString()
    await forwarding.start()
    try:
        await forwarding.consume(Signal.TRACES, request, payload=payload)
        for _ in range(500):
            if sender.bodies:
                break
            await asyncio.sleep(0.01)
    finally:
        await forwarding.shutdown()
    assert sender.bodies == [payload]


SAMPLED = """\
exporters:
  vendor:
    endpoint: http://vendor.example:4318
    processors:
      tail_sampling:               # the vendor is sent failing traces only
        decision_wait: {wait}
        policies: [{{name: errors, type: status_code, status_code: {{status_codes: [ERROR]}}}}]
  peer:
    endpoint: http://peer.example:4318
"""


def sampled_forwarding(
    wait: str, local: InMemoryConsumer, senders: dict[str, HeldSender], directory: Path
) -> Forwarding:
    """Forwarding to ``SAMPLED``'s two destinations, the vendor's decision wait ``wait``."""
    pipeline = parse_pipeline(SAMPLED.format(wait=wait), "p.yaml")
    return Forwarding(
        local,
        pipeline.exporters,
        directory=directory,
        senders=senders,  # type: ignore[arg-type]
    )


def traces_in(bodies: list[bytes]) -> list[bytes]:
    return sorted(
        {
            span.trace_id
            for body in bodies
            for resource in ExportTraceServiceRequest.FromString(body).resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        }
    )


async def test_a_destination_with_its_own_tail_sampling_gets_the_traces_it_keeps(
    tmp_path: Path,
) -> None:
    local = InMemoryConsumer()
    senders = {"vendor": HeldSender(), "peer": HeldSender()}
    for sender in senders.values():
        sender.go.set()
    forwarding = sampled_forwarding("10ms", local, senders, tmp_path)
    failing, fine = make_traces("failing", spans=3), make_traces("fine", spans=2)
    failing.resource_spans[0].scope_spans[0].spans[1].status.code = 2  # ERROR
    await forwarding.start()
    try:
        for request in (failing, fine):
            await forwarding.consume(Signal.TRACES, request)
        for _ in range(1000):  # the sampler decides on its own tick
            report = {r.name: r for r in forwarding.reports()}["vendor"].sampling
            decided = report is not None and report.stats.kept + report.stats.dropped == 2
            if decided and senders["vendor"].bodies and len(senders["peer"].bodies) == 2:
                break
            await asyncio.sleep(0.01)
    finally:
        await forwarding.shutdown()
    failing_id = failing.resource_spans[0].scope_spans[0].spans[0].trace_id
    fine_id = fine.resource_spans[0].scope_spans[0].spans[0].trace_id
    # The local store and the other destination get everything; the vendor, the failing
    # trace whole.
    assert len(local.received) == 2
    assert traces_in(senders["peer"].bodies) == sorted([failing_id, fine_id])
    assert traces_in(senders["vendor"].bodies) == [failing_id]
    [vendor_body] = senders["vendor"].bodies
    assert ExportTraceServiceRequest.FromString(vendor_body) == failing
    reports = {r.name: r for r in forwarding.reports()}
    assert reports["peer"].sampling is None
    sampling = reports["vendor"].sampling
    assert sampling is not None and (sampling.stats.kept, sampling.stats.dropped) == (1, 1)


async def test_a_destinations_undecided_traces_wait_in_its_log_across_a_restart(
    tmp_path: Path,
) -> None:
    senders = {"vendor": HeldSender(), "peer": HeldSender()}
    forwarding = sampled_forwarding("1h", InMemoryConsumer(), senders, tmp_path)
    await forwarding.start()
    await forwarding.consume(Signal.TRACES, make_traces("one", spans=2))
    await forwarding.shutdown()
    assert list((tmp_path / "vendor" / "tail-sampling" / "held").glob("*.wal"))
    again = sampled_forwarding("1h", InMemoryConsumer(), senders, tmp_path)
    await again.start()
    try:
        sampling = {r.name: r for r in again.reports()}["vendor"].sampling
        assert sampling is not None
        assert (sampling.held_traces, sampling.held_spans) == (1, 2)
        assert sampling.stats.replayed_traces == 1
    finally:
        await again.shutdown()

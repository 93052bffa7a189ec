"""Hand-built traces with known calls, errors and durations, and what a service map of
them must show, worked out here from the spans by the rules the map documents:

- a service's requests are its server, consumer and root spans, each once;
- an edge is a client (or producer) span and its server (or consumer) child, a database
  call (a client span with ``db.*``) to ``server.address``, a client span with no server
  child to the peer its ``server.address`` names, or a root server span called by
  ``user``, unless it links to a producer span: then the producer's service called it
  (a message through a queue, in a trace of its own);
- a service's requests count each stored copy of a span sent twice, calls count it once;
- a request failed when either span is an error; its latency is the server span's
  duration, else the client's; quantiles are numpy's default (linear, R-7).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

MS = 1_000_000
START_NS = 1_765_000_800 * 10**9  # a whole minute, in December 2025
END_NS = START_NS + 600 * 10**9
SECONDS = (END_NS - START_NS) / 10**9

SERVER, CLIENT = Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT
PRODUCER, CONSUMER = Span.SPAN_KIND_PRODUCER, Span.SPAN_KIND_CONSUMER
INTERNAL = Span.SPAN_KIND_INTERNAL
DATABASE = {"db.system.name": "postgresql", "db.namespace": "shop", "server.address": "pg.local"}
PROVIDER = {"server.address": "api.pay.example"}


@dataclass
class Made:
    trace: int
    span: int
    parent: int
    service: str
    kind: int
    start_ns: int
    duration_ns: int
    error: bool
    attributes: dict[str, str] = field(default_factory=dict)
    links: list[tuple[int, int]] = field(default_factory=list)


class _Trace:
    def __init__(self, trace: int, start_ns: int, rng: random.Random, out: list[Made]) -> None:
        self.trace, self.start_ns, self.rng, self.out = trace, start_ns, rng, out
        self.next_id = trace * 1000

    def add(
        self,
        parent: int,
        service: str,
        kind: int,
        links: list[tuple[int, int]] | None = None,
        **attributes: str,
    ) -> int:
        self.next_id += 1
        made = Made(
            self.trace,
            self.next_id,
            parent,
            service,
            kind,
            self.start_ns + self.rng.randrange(0, 50) * MS,
            self.rng.randrange(1, 400) * MS + self.rng.randrange(0, 1000),
            self.rng.random() < 0.2,
            attributes,
            links or [],
        )
        self.out.append(made)
        return made.span


def make_spans(seed: int = 7, traces: int = 90) -> list[Made]:
    """Shop-like traces in ``[START_NS, END_NS)``, and a few before it (never counted)."""
    rng = random.Random(seed)
    spans: list[Made] = []
    for n in range(1, traces + 1):
        before = n % 15 == 0
        start = START_NS - 120 * 10**9 if before else START_NS + rng.randrange(0, 590) * 10**9
        t = _Trace(n, start, rng, spans)
        if n % 9 == 0:  # a batch job: an internal root calls the frontend
            root = t.add(0, "batch", INTERNAL)
            call = t.add(root, "batch", CLIENT)
            front = t.add(call, "frontend", SERVER)
        else:
            front = t.add(0, "frontend", SERVER)
        call = t.add(front, "frontend", CLIENT)
        checkout = t.add(call, "checkout", SERVER)
        for _ in range(rng.randrange(1, 4)):
            t.add(checkout, "checkout", CLIENT, **DATABASE)
        if rng.random() < 0.7:
            call = t.add(checkout, "checkout", CLIENT)
            payment = t.add(call, "payment", SERVER)
            t.add(payment, "payment", CLIENT, **PROVIDER)
        if rng.random() < 0.5:
            sent = t.add(checkout, "checkout", PRODUCER)
            t.add(sent, "shipping", CONSUMER)
        if rng.random() < 0.4:  # through a queue: the consumer links to the producer
            sent = t.add(checkout, "checkout", PRODUCER, **{"server.address": "kafka.local"})
            later = _Trace(n + 100_000, start + 5 * 10**9, rng, spans)
            later.add(0, "billing", CONSUMER, links=[(n, sent)])
        if rng.random() < 0.3:  # a server span under an internal one: a request, no edge
            inner = t.add(checkout, "checkout", INTERNAL)
            t.add(inner, "inventory", SERVER)
    return spans


def export_request(spans: list[Made]) -> ExportTraceServiceRequest:
    grouped: dict[str, list[Span]] = defaultdict(list)
    for s in spans:
        grouped[s.service].append(
            Span(
                trace_id=s.trace.to_bytes(16, "big"),
                span_id=s.span.to_bytes(8, "big"),
                parent_span_id=s.parent.to_bytes(8, "big") if s.parent else b"",
                name=f"{s.service} op",
                kind=s.kind,
                start_time_unix_nano=s.start_ns,
                end_time_unix_nano=s.start_ns + s.duration_ns,
                status=Status(code=Status.STATUS_CODE_ERROR if s.error else 0),
                links=[
                    Span.Link(trace_id=trace.to_bytes(16, "big"), span_id=span.to_bytes(8, "big"))
                    for trace, span in s.links
                ],
                attributes=[
                    KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in s.attributes.items()
                ],
            )
        )
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(
                    attributes=[KeyValue(key="service.name", value=AnyValue(string_value=name))]
                ),
                scope_spans=[ScopeSpans(spans=found)],
            )
            for name, found in grouped.items()
        ]
    )


@dataclass(frozen=True)
class Expected:
    """A node's or an edge's figures, from the requests' (failed, latency ns) pairs."""

    requests: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None

    @classmethod
    def of(cls, found: list[tuple[bool, int]]) -> Expected:
        if not found:
            return cls(0, 0, None, None, None)
        latencies = np.array([ns for _, ns in found], dtype=float)
        p50, p95, p99 = (float(np.percentile(latencies, q)) / MS for q in (50, 95, 99))
        return cls(len(found), sum(failed for failed, _ in found), p50, p95, p99)


def _in_range(span: Made) -> bool:
    return START_NS <= span.start_ns < END_NS


def expected_nodes(
    spans: list[Made], copies: list[Made] | None = None
) -> dict[str, tuple[str, Expected]]:
    """Node name → (kind, figures). A service's requests count each stored copy of a
    span sent again (``copies``), as every count of otelite does; calls count it once."""
    requests: dict[str, list[tuple[bool, int]]] = defaultdict(list)
    for s in [*spans, *(copies or [])]:
        if _in_range(s) and (s.kind in (SERVER, CONSUMER) or not s.parent):
            requests[s.service].append((s.error, s.duration_ns))
    nodes = {name: ("service", Expected.of(found)) for name, found in requests.items()}
    received: dict[str, list[tuple[bool, int]]] = defaultdict(list)
    kinds = {}
    for (_, server, connection), found in expected_edges(spans).items():
        if connection in ("database", "virtual_node") and server not in requests:
            received[server].extend(found)
            kinds[server] = "database" if connection == "database" else "peer"
    nodes.update({name: (kinds[name], Expected.of(found)) for name, found in received.items()})
    nodes["user"] = ("client", Expected.of([]))
    return nodes


def expected_edges(spans: list[Made]) -> dict[tuple[str, str, str], list[tuple[bool, int]]]:
    """(client, server, connection) → each request's (failed, latency ns)."""
    by_id = {(s.trace, s.span): s for s in spans}
    answered = {(s.trace, s.parent) for s in spans if s.kind in (SERVER, CONSUMER)}
    answered |= {link for s in spans if s.kind == CONSUMER for link in s.links}
    edges: dict[tuple[str, str, str], list[tuple[bool, int]]] = defaultdict(list)
    for s in spans:
        if not _in_range(s):
            continue
        if s.kind == CONSUMER and s.links:
            p = by_id[s.links[0]]
            edges[(p.service, s.service, "messaging_system")].append(
                (p.error or s.error, s.duration_ns)
            )
        elif s.kind in (SERVER, CONSUMER) and not s.parent:
            edges[("user", s.service, "virtual_node")].append((s.error, s.duration_ns))
        elif s.kind in (SERVER, CONSUMER):
            c = by_id[(s.trace, s.parent)]
            if c.kind in (CLIENT, PRODUCER):
                connection = "messaging_system" if c.kind == PRODUCER else ""
                edges[(c.service, s.service, connection)].append(
                    (c.error or s.error, s.duration_ns)
                )
        elif s.kind == CLIENT and "db.namespace" in s.attributes:
            key = (s.service, s.attributes["server.address"], "database")
            edges[key].append((s.error, s.duration_ns))
        elif s.kind == CLIENT and (s.trace, s.span) not in answered and s.attributes:
            key = (s.service, s.attributes["server.address"], "virtual_node")
            edges[key].append((s.error, s.duration_ns))
    return edges

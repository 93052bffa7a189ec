"""The service graph's database calls and virtual nodes, on both backends, against the
requests found here by Tempo's rules from the spans the test sends (a third of them
sent twice):

- a client span with ``db.namespace``, ``db.name`` or ``db.system`` calls a database,
  named by ``peer.service``, ``server.address``, ``network.peer.address`` (``:port``),
  ``db.namespace``, ``db.name`` or ``db.system``, the first it has
  (``connection_type="database"``), and pairs with no server span;
- another client (or producer) span without a server child calls the peer its
  ``peer.service`` names, if any (``virtual_node``);
- a root server span is called by the peer its ``peer.service`` names, else ``user``
  (``virtual_node``);
- a server span whose parent is not a client span (nor there) makes no request.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.storage import WriteBatch
from tests.backends import BACKENDS
from tests.promql.support import (
    MIDNIGHT_MS,
    MS,
    Edge,
    assert_counts,
    assert_sums,
    by_service,
    edges,
    latest_step,
    serving,
)

BASE_MS = MIDNIGHT_MS + 14 * 3_600_000
CLIENTS = (Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_PRODUCER)
SERVERS = (Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CONSUMER)
# Database attributes a client span may have.
DATABASES: tuple[dict[str, str | int], ...] = (
    {"db.system": "postgresql"},
    {"db.system": "postgresql", "db.name": "orders"},
    {"db.name": "orders", "db.namespace": "orders-ns"},
    {"db.system": "redis", "server.address": "cache-1"},
    {"db.system": "mysql", "db.name": "users", "peer.service": "users-db"},
    {"db.system": "mysql", "network.peer.address": "10.0.0.5", "network.peer.port": 3306},
    {"db.system": "mysql", "network.peer.address": "10.0.0.6"},
)


@dataclass
class Made:
    """One span the test sends."""

    trace: int
    span: int
    parent: int  # 0: none
    service: str
    kind: int
    start_ms: int
    duration_ns: int
    error: bool
    attributes: dict[str, str | int] = field(default_factory=dict)


class Trace:
    """Spans of one trace, added to ``spans``."""

    def __init__(self, trace: int, rng: random.Random, spans: list[Made]) -> None:
        self.trace, self.rng, self.spans = trace, rng, spans
        self.ids = iter(range(trace * 100 + 1, trace * 100 + 100))

    def add(self, parent: int, service: str, kind: int, at: int, **attributes: str | int) -> int:
        duration = self.rng.choice((1, 3, 7, 90)) * MS
        made = Made(
            self.trace,
            next(self.ids),
            parent,
            service,
            kind,
            at,
            duration,
            self.rng.random() < 0.15,
            dict(attributes),
        )
        self.spans.append(made)
        return made.span


def make_spans(seed: int = 3) -> list[Made]:
    rng = random.Random(seed)
    spans: list[Made] = []
    for trace in range(1, 121):
        start = BASE_MS + rng.randrange(0, 12 * 60_000)
        add = Trace(trace, rng, spans).add
        called = {"peer.service": "mobile-app"} if rng.random() < 0.3 else {}
        root = add(0, "web", Span.SPAN_KIND_SERVER, start, **called)
        for _ in range(rng.randrange(1, 4)):
            at = start + rng.randrange(1, 50)
            shape = rng.choice(("pair", "late pair", "db", "db proxied", "peer", "alone", "inner"))
            if shape in ("pair", "late pair"):
                # A peer.service does not make a virtual node when the server is there,
                # even 30 s later (in another step, maybe after the time asked).
                client = add(root, "web", rng.choice(CLIENTS), at, **{"peer.service": "cart"})
                later = 30_000 if shape == "late pair" else rng.randrange(0, 5)
                add(client, "cart", rng.choice(SERVERS), at + later)
            elif shape.startswith("db"):
                attributes = rng.choice(DATABASES)
                client = add(root, "web", Span.SPAN_KIND_CLIENT, at, **attributes)
                if shape == "db proxied":  # a server span under it still pairs with nothing
                    add(client, "proxy", Span.SPAN_KIND_SERVER, at + 1)
            elif shape == "peer":
                kind = rng.choice(CLIENTS)
                add(root, "web", kind, at, **{"peer.service": rng.choice(("payments", "mail"))})
            elif shape == "alone":  # names no peer: no request
                add(root, "web", Span.SPAN_KIND_CLIENT, at)
            else:  # a server span under an internal one: no request
                inner = add(root, "web", Span.SPAN_KIND_INTERNAL, at)
                add(inner, "cart", Span.SPAN_KIND_SERVER, at + 1)
    return spans


SPANS = make_spans()


def export_request(spans: list[Made]) -> ExportTraceServiceRequest:
    grouped: dict[str, list[Span]] = {}
    for s in spans:
        attributes = [
            KeyValue(
                key=key,
                value=AnyValue(int_value=value)
                if isinstance(value, int)
                else AnyValue(string_value=value),
            )
            for key, value in s.attributes.items()
        ]
        grouped.setdefault(s.service, []).append(
            Span(
                trace_id=s.trace.to_bytes(16, "big"),
                span_id=s.span.to_bytes(8, "big"),
                parent_span_id=s.parent.to_bytes(8, "big") if s.parent else b"",
                name="op",
                kind=s.kind,
                start_time_unix_nano=s.start_ms * MS,
                end_time_unix_nano=s.start_ms * MS + s.duration_ns,
                status=Status(code=Status.STATUS_CODE_ERROR if s.error else 0),
                attributes=attributes,
            )
        )
    return by_service(grouped)


@pytest.fixture(scope="module", params=BACKENDS)
def api(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    batches = [WriteBatch(traces=[export_request(SPANS)])]
    batches.append(WriteBatch(traces=[export_request(SPANS[::3])]))  # a retry
    with serving(request.param, *batches) as client:
        yield client


@dataclass(frozen=True)
class Request:
    at_ms: int
    edge: Edge
    failed: bool
    server_ns: int
    client_ns: int


def database(span: Made) -> str | None:
    """The database a client span calls, by Tempo's rules; None if it calls none."""
    found = span.attributes
    if not any(key in found for key in ("db.namespace", "db.name", "db.system")):
        return None
    address = found.get("network.peer.address")
    if "network.peer.port" in found and address is not None:
        address = f"{address}:{found['network.peer.port']}"
    for value in (found.get("peer.service"), found.get("server.address"), address):
        if value is not None:
            return str(value)
    return str(found.get("db.namespace") or found.get("db.name") or found.get("db.system"))


def peer(span: Made) -> str | None:
    for key in ("peer.service", "db.name", "db.system"):
        if key in span.attributes:
            return str(span.attributes[key])
    return None


def requests() -> list[Request]:
    by_id = {(s.trace, s.span): s for s in SPANS}
    answered = {(s.trace, s.parent) for s in SPANS if s.kind in SERVERS}
    found = []
    for s in SPANS:
        if s.kind in SERVERS and not s.parent:
            edge = (peer(s) or "user", s.service, "virtual_node")
            found.append(Request(s.start_ms, edge, s.error, s.duration_ns, 0))
        elif s.kind in SERVERS:
            c = by_id.get((s.trace, s.parent))
            if c is not None and c.kind in CLIENTS and database(c) is None:
                connection = "messaging_system" if c.kind == Span.SPAN_KIND_PRODUCER else ""
                edge = (c.service, s.service, connection)
                failed = c.error or s.error
                found.append(Request(s.start_ms, edge, failed, s.duration_ns, c.duration_ns))
        elif s.kind in CLIENTS:
            name = database(s)
            if name is not None:
                edge = (s.service, name, "database")
                found.append(Request(s.start_ms, edge, s.error, s.duration_ns, s.duration_ns))
            elif (s.trace, s.span) not in answered and peer(s) is not None:
                edge = (s.service, str(peer(s)), "virtual_node")
                found.append(Request(s.start_ms, edge, s.error, 0, s.duration_ns))
    return found


REQUESTS = requests()


def before(end_ms: int) -> list[Request]:
    return [r for r in REQUESTS if MIDNIGHT_MS <= r.at_ms < end_ms]


TIMES = [BASE_MS + 5 * 60_000 + 4_000, BASE_MS + 9 * 60_000 + 29_000, BASE_MS + 20 * 60_000]


def test_the_data_has_every_kind_of_request() -> None:
    kinds = Counter(r.edge[2] for r in REQUESTS)
    assert {"", "messaging_system", "database", "virtual_node"} <= kinds.keys()
    names = {r.edge[1] for r in REQUESTS if r.edge[2] == "database"}
    assert {"postgresql", "orders", "orders-ns", "cache-1", "users-db"} <= names
    assert {"10.0.0.5:3306", "10.0.0.6"} <= names
    assert {"user", "mobile-app"} <= {r.edge[0] for r in REQUESTS}
    assert {"payments", "mail"} <= {r.edge[1] for r in REQUESTS}


@pytest.mark.parametrize("at", TIMES)
def test_requests_per_edge(api: httpx.Client, at: int) -> None:
    end = latest_step(at)
    expected = Counter(r.edge for r in before(end))
    assert edges(api, "traces_service_graph_request_total", at) == {
        edge: float(n) for edge, n in expected.items()
    }
    failed = Counter(r.edge for r in before(end) if r.failed)
    assert_counts(edges(api, "traces_service_graph_request_failed_total", at), failed)


@pytest.mark.parametrize("side", ["server", "client"])
def test_durations_per_edge(api: httpx.Client, side: str) -> None:
    at = TIMES[-1]
    end = latest_step(at)
    sums: dict[Edge, float] = {}
    fast: Counter[Edge] = Counter()
    for r in before(end):
        duration = r.server_ns if side == "server" else r.client_ns
        sums[r.edge] = sums.get(r.edge, 0.0) + duration / 1e9
        fast[r.edge] += duration <= 2 * MS  # a virtual node's side is 0
    name = f"traces_service_graph_request_{side}_seconds"
    assert_sums(edges(api, f"{name}_sum", at), sums)
    assert_counts(edges(api, f'{name}_bucket{{le="0.002"}}', at), fast)

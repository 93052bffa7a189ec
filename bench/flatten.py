"""Cost of each ingest stage per span, in one process: where the CPU of a span goes.

Run: ``.venv/bin/python bench/flatten.py [batches] [batch_spans]``. Builds 500-span
requests shaped like instrumented HTTP/database spans (10 attributes, ~450 B per span,
four services), then times, per span (best of five passes; the machine is shared, so
compare figures taken in one run): protobuf parse, validation, re-serialising for the
write-ahead log (only requests validation changed), flattening to Arrow
(``traces_to_tables``), and inserting the flattened batches into an on-disk DuckDB store
(``DuckDBStorage.write`` minus the flatten).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.otlp._validate import validate
from otelite.storage import WriteBatch, traces_to_tables
from otelite.storage.duckdb import DuckDBStorage
from otelite.types import ExportTraceServiceRequest, Signal

T = TypeVar("T")
REQUEST_SPANS = 500
_SERVICES = ("frontend", "checkout", "payment", "inventory")
_NAMES = ("GET /api/orders/{id}", "POST /api/checkout", "SELECT orders", "redis GET")


def _kv(key: str, value: str | int | bool) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def make_request(seed: int, spans: int = REQUEST_SPANS) -> ExportTraceServiceRequest:
    """A deterministic request of ``spans`` spans under four service resources."""
    rnd = random.Random(seed)
    request = ExportTraceServiceRequest()
    now = time.time_ns()
    for service in _SERVICES:
        resource_spans = request.resource_spans.add()
        resource_spans.resource.attributes.extend(
            [
                _kv("service.name", service),
                _kv("service.version", "1.4.2"),
                _kv("deployment.environment.name", "prod"),
                _kv("host.name", f"host-{rnd.randint(1, 9)}"),
                _kv("k8s.pod.name", f"{service}-7d9f-{rnd.randint(100, 999)}"),
            ]
        )
        scope_spans = resource_spans.scope_spans.add()
        scope_spans.scope.name = "opentelemetry.instrumentation.http"
        scope_spans.scope.version = "0.48b0"
        for _ in range(spans // len(_SERVICES)):
            span = scope_spans.spans.add()
            span.trace_id = rnd.randbytes(16)
            span.span_id = rnd.randbytes(8)
            span.parent_span_id = rnd.randbytes(8)
            span.name = rnd.choice(_NAMES)
            span.kind = rnd.choice(
                (Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_INTERNAL)
            )
            span.start_time_unix_nano = now - rnd.randint(0, 10**9)
            span.end_time_unix_nano = span.start_time_unix_nano + rnd.randint(10**5, 10**8)
            span.attributes.extend(
                [
                    _kv("http.request.method", "GET"),
                    _kv("http.route", "/api/orders/{id}"),
                    _kv("url.full", f"https://shop.example.com/api/orders/{rnd.randint(1, 10**6)}"),
                    _kv("http.response.status_code", rnd.choice((200, 200, 200, 404, 500))),
                    _kv("server.address", "orders.internal"),
                    _kv("server.port", 8080),
                    _kv("network.protocol.version", "1.1"),
                    _kv("user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) shop/1.0"),
                    _kv("db.system", "postgresql"),
                    _kv("app.cache_hit", rnd.random() < 0.5),
                ]
            )
            if rnd.random() < 0.05:
                span.status.code = Status.STATUS_CODE_ERROR
                span.status.message = "upstream failed"
    return request


def _best(spans: int, run: Callable[[], T], passes: int = 5) -> tuple[float, T]:
    """Best time of ``passes`` runs, in µs per span, and the last result."""
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best / spans * 1e6, result


def main() -> None:
    batches = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    batch_spans = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    per_batch = batch_spans // REQUEST_SPANS
    bodies = [make_request(i).SerializeToString() for i in range(per_batch)]
    spans = per_batch * REQUEST_SPANS
    size = len(bodies[0]) / REQUEST_SPANS
    print(f"{per_batch} requests of {REQUEST_SPANS} spans, {size:.0f} B/span")

    parse, requests = _best(
        spans, lambda: [ExportTraceServiceRequest.FromString(b) for b in bodies]
    )
    # As the receiver does: the body shows that no value can be over the length limit.
    check, _ = _best(
        spans,
        lambda: [validate(Signal.TRACES, r, body=b) for r, b in zip(requests, bodies, strict=True)],
    )
    # Only for a request validation changed: an unchanged body is logged as received.
    serialize, _ = _best(spans, lambda: [r.SerializeToString() for r in requests])
    flatten, _ = _best(spans, lambda: traces_to_tables(requests))
    with tempfile.TemporaryDirectory() as directory:
        storage = DuckDBStorage(Path(directory))
        write, _ = _best(spans, lambda: storage.write(WriteBatch(traces=requests)), passes=batches)
        storage.close()
    for label, value in [
        ("parse", parse),
        ("validate", check),
        ("serialize (WAL, changed requests only)", serialize),
        ("flatten (traces_to_tables)", flatten),
        ("DuckDB insert", write - flatten),
        ("storage write (flatten + insert)", write),
    ]:
        print(f"{label:34} {value:6.2f} µs/span")


if __name__ == "__main__":
    main()

"""Cost of ``validate`` per span on the happy path (limits checked, nothing to cut).

Run: ``.venv/bin/python -m tests.hardening.bench_validate``. Builds 10 requests of 1,000
spans of about 500 bytes (10 attributes, one event on every tenth span) and reports the
median microseconds per span over several runs, with the value length limit checked
(each span's encoded size measured, or the body's length prefixes read, as the receivers
do for protobuf), skipped because the body is small, and off.
"""

from __future__ import annotations

import statistics
import time

from otelite.config import Limits
from otelite.otlp._validate import validate
from otelite.types import ExportTraceServiceRequest, Signal

SPANS = 1_000
REQUESTS = 10
RUNS = 7


def make_request(batch: int) -> bytes:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", "bench"
    spans = resource_spans.scope_spans.add().spans
    now = time.time_ns()
    for i in range(SPANS):
        span = spans.add()
        span.trace_id = batch.to_bytes(8, "big") + (i // 10 + 1).to_bytes(8, "big")
        span.span_id = (i + 1).to_bytes(8, "big")
        if i % 10:
            span.parent_span_id = (i - i % 10 + 1).to_bytes(8, "big")
        span.name = f"GET /api/items/{i % 17}"
        span.kind = 2
        span.start_time_unix_nano = now + i * 1000
        span.end_time_unix_nano = span.start_time_unix_nano + 250_000
        for k in range(10):
            kv = span.attributes.add()
            kv.key = f"attribute.key.{k}"
            if k % 3:
                kv.value.string_value = f"value-{i}-{k}-" + "x" * 16
            else:
                kv.value.int_value = i * k
        if i % 10 == 0:
            event = span.events.add(name="exception", time_unix_nano=now + i)
            kv = event.attributes.add()
            kv.key, kv.value.string_value = "exception.message", "boom"
    return request.SerializeToString()


def main() -> None:
    bodies = [make_request(b + 1) for b in range(REQUESTS)]
    print(f"span size ≈ {len(bodies[0]) / SPANS:.0f} bytes, request {len(bodies[0])} bytes")
    cases: list[tuple[str, Limits, int | None, bool]] = [
        ("default limits, body over the value length limit", Limits(), None, False),
        ("same, the body's length prefixes read instead", Limits(), None, True),
        ("default limits, body within it (nothing measured)", Limits(), 1, False),
        ("value length limit off", Limits(max_attribute_value_length=None), None, False),
    ]
    for name, limits, encoded_size, read in cases:
        timings: list[float] = []
        for _ in range(RUNS):
            requests = [ExportTraceServiceRequest.FromString(body) for body in bodies]
            started = time.perf_counter()
            for request, body in zip(requests, bodies, strict=True):
                rejection = validate(
                    Signal.TRACES,
                    request,
                    limits,
                    encoded_size=encoded_size,
                    body=body if read else None,
                )
                assert not rejection.message, rejection.message
            timings.append((time.perf_counter() - started) / (SPANS * REQUESTS) * 1e6)
        print(f"{name}: {statistics.median(timings):.2f} µs/span (median of {RUNS})")


if __name__ == "__main__":
    main()

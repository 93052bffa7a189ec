"""Request bodies for the benchmark, made before any clock starts.

Ingest runs send pre-encoded bodies so the senders cost almost nothing. Filling a store to
millions of spans re-uses a pool of generated requests: each pass over the pool gets fresh
trace ids (so traces stay distinct) and its own place on a time line (so the data spreads
over the last day, oldest first, as a day of production traffic would arrive).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from otelite.demo import generate_batches
from otelite.pipeline import count_items
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
    Signal,
)

__all__ = [
    "GENERATOR_NAME",
    "VARIANT_SHIFT_NS",
    "Pool",
    "encode",
    "fill_schedule",
    "make_pool",
    "regenerate_id",
    "retime_logs",
    "retime_metrics",
    "retrace_spans",
    "variant",
]

GENERATOR_NAME = "otelite.demo.generate_batches"


@dataclass(frozen=True, slots=True)
class Pool:
    """Generated requests of one signal, as messages and as encoded bodies."""

    signal: Signal
    requests: list[ExportRequest]
    bodies: list[bytes]
    items: list[int]
    """Spans, points or log records per request."""

    @property
    def total_items(self) -> int:
        return sum(self.items)

    @property
    def total_bytes(self) -> int:
        return sum(len(body) for body in self.bodies)

    def describe(self) -> str:
        """Size of the items on the wire, and attributes per span where there are spans."""
        text = f"{self.total_bytes / max(1, self.total_items):.0f} B per item encoded"
        spans = [
            len(span.attributes)
            for request in self.requests
            if isinstance(request, ExportTraceServiceRequest)
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]
        if spans:
            text += f", {sum(spans) / len(spans):.1f} attributes per span (plus the resource's)"
        return text


def make_pool(signal: Signal, items: int, *, batch_size: int = 500, seed: int = 1) -> Pool:
    """At least ``items`` items of ``signal`` in requests of about ``batch_size``."""
    requests: list[ExportRequest] = []
    counts: list[int] = []
    total = 0
    for request in generate_batches(signal, seed=seed, batch_size=batch_size):
        if total >= items:
            break
        n = count_items(request)
        if n == 0:
            continue
        requests.append(request)
        counts.append(n)
        total += n
    return Pool(signal, requests, [encode(r) for r in requests], counts)


def encode(request: ExportRequest) -> bytes:
    """The protobuf body of ``request``."""
    return request.SerializeToString()


def retrace_spans(request: ExportTraceServiceRequest, generation: int, shift_ns: int) -> bytes:
    """``request`` with trace ids made unique to ``generation`` and times moved by ``shift_ns``.

    The low 8 bytes of each trace id are XORed with ``generation``: distinct ids stay distinct
    within a generation and across generations, and spans of one trace stay together.
    """
    copy = ExportTraceServiceRequest()
    copy.CopyFrom(request)
    for rs in copy.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                span.trace_id = regenerate_id(span.trace_id, generation)
                span.start_time_unix_nano += shift_ns
                span.end_time_unix_nano += shift_ns
                for event in span.events:
                    event.time_unix_nano += shift_ns
    return copy.SerializeToString()


def retime_logs(request: ExportLogsServiceRequest, generation: int, shift_ns: int) -> bytes:
    """``request`` with record times moved by ``shift_ns`` (trace ids follow the spans')."""
    copy = ExportLogsServiceRequest()
    copy.CopyFrom(request)
    for rl in copy.resource_logs:
        for sl in rl.scope_logs:
            for record in sl.log_records:
                if record.time_unix_nano:
                    record.time_unix_nano += shift_ns
                record.observed_time_unix_nano += shift_ns
                if record.trace_id:
                    record.trace_id = regenerate_id(record.trace_id, generation)
    return copy.SerializeToString()


def retime_metrics(request: ExportMetricsServiceRequest, shift_ns: int) -> bytes:
    """``request`` with every data point's time moved by ``shift_ns``."""
    copy = ExportMetricsServiceRequest()
    copy.CopyFrom(request)
    for rm in copy.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                for point in getattr(metric, kind).data_points:
                    point.time_unix_nano += shift_ns
    return copy.SerializeToString()


VARIANT_SHIFT_NS = 3600 * 10**9


def variant(pool: Pool, generation: int) -> list[bytes]:
    """The pool's bodies as pass ``generation`` sends them: distinct from every other pass,
    so repeated runs store new data. Spans get fresh trace ids; logs and metric points move
    ``generation`` hours back, so each pass can be counted on its own by time."""
    if generation == 0:
        return pool.bodies
    bodies = []
    shift = -generation * VARIANT_SHIFT_NS
    for request in pool.requests:
        if isinstance(request, ExportTraceServiceRequest):
            bodies.append(retrace_spans(request, generation, 0))
        elif isinstance(request, ExportLogsServiceRequest):
            bodies.append(retime_logs(request, generation, shift))
        else:
            bodies.append(retime_metrics(request, shift))
    return bodies


def regenerate_id(trace_id: bytes, generation: int) -> bytes:
    """The id a trace of the pool carries in pass ``generation`` (0 keeps it)."""
    if len(trace_id) != 16 or generation == 0:
        return trace_id
    low = int.from_bytes(trace_id[8:], "big") ^ generation
    return trace_id[:8] + low.to_bytes(8, "big")


def fill_schedule(requests: int, pool_size: int, window_ns: int) -> Iterator[tuple[int, int, int]]:
    """``(pool index, generation, shift_ns)`` for each of ``requests`` fill requests.

    Shifts run from ``-window_ns`` up to 0 in send order, so the store fills oldest first and
    its newest data is near now.
    """
    for n in itertools.islice(itertools.count(), requests):
        generation, index = divmod(n, pool_size)
        shift = -window_ns + (window_ns * n) // max(1, requests)
        yield index, generation, shift

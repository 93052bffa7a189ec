"""Helpers for the demo tests: a deterministic clock and flat views of requests."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.demo import Batch
from otelite.types import ExportLogsServiceRequest, ExportTraceServiceRequest

START = 1_700_000_000 * 10**9


def stepping_clock(step_ms: float = 1.0) -> Callable[[], int]:
    """A clock that moves ``step_ms`` forward each time it is read."""
    ticks = itertools.count(START, int(step_ms * 1_000_000))
    return lambda: next(ticks)


def attrs(items: Iterable[KeyValue]) -> dict[str, object]:
    """Attributes as a dict of plain values."""
    found: dict[str, object] = {}
    for kv in items:
        kind = kv.value.WhichOneof("value")
        found[kv.key] = getattr(kv.value, kind) if kind else None
    return found


@dataclass
class FlatSpan:
    service: str
    version: str
    span: Span

    @property
    def attributes(self) -> dict[str, object]:
        return attrs(self.span.attributes)

    @property
    def duration(self) -> int:
        return self.span.end_time_unix_nano - self.span.start_time_unix_nano


def spans_of(batches: Iterable[Batch]) -> list[FlatSpan]:
    """Every span of the trace batches, with its service, in request order."""
    found = []
    for batch in batches:
        request = batch.request()
        assert isinstance(request, ExportTraceServiceRequest)
        for resource in request.resource_spans:
            resource_attrs = attrs(resource.resource.attributes)
            for scope in resource.scope_spans:
                for span in scope.spans:
                    found.append(
                        FlatSpan(
                            str(resource_attrs["service.name"]),
                            str(resource_attrs["service.version"]),
                            span,
                        )
                    )
    return found


def logs_of(batches: Iterable[Batch]) -> list[tuple[str, LogRecord]]:
    """Every log record of the log batches, with its service."""
    found = []
    for batch in batches:
        request = batch.request()
        assert isinstance(request, ExportLogsServiceRequest)
        for resource in request.resource_logs:
            service = str(attrs(resource.resource.attributes)["service.name"])
            for scope in resource.scope_logs:
                found.extend((service, record) for record in scope.log_records)
    return found


def take(batches: Iterable[Batch], n: int) -> list[Batch]:
    """The first ``n`` batches."""
    return list(itertools.islice(batches, n))

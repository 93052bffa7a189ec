"""A recording storage double, hand-built OTLP requests and virtual time for the pipeline
tests."""

from __future__ import annotations

import asyncio
import collections
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Gauge,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otelite.config import Limits
from otelite.errors import InvalidRequest, Unavailable
from otelite.pipeline import IngestPipeline
from otelite.storage import Storage, WriteBatch
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
)

TAG_KEY = "test.tag"
# Where test requests' rows go: spans, gauge points (make_metrics), log records.
_TAGGED_TABLES = ("otel_traces", "otel_metrics_gauge", "otel_logs")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_pipeline(
    storage: RecordingStorage,
    wal_dir: Path | None,
    *,
    limits: Limits | None = None,
    retry_initial: float = 0.005,
    retry_max: float = 0.02,
    **options: Any,
) -> IngestPipeline:
    """A pipeline over the double, retrying fast so failure tests stay quick."""
    return IngestPipeline(
        cast(Storage, storage),  # the double has what the pipeline uses
        wal_dir=wal_dir,
        limits=limits or Limits(),
        retry_initial=retry_initial,
        retry_max=retry_max,
        **options,
    )


class RecordingStorage:
    """Keeps every WriteBatch; can fail, reject or block writes on request.

    Implements the parts of ``Storage`` the pipeline uses: ``write``, ``wal_position`` and
    ``ingest_state``.
    """

    def __init__(self) -> None:
        self.batches: list[WriteBatch] = []
        self.write_calls = 0
        self.fail_times = 0
        """The next this-many writes raise ``Unavailable``."""
        self.reject_tags: set[str] = set()
        """A batch holding a request with one of these tags raises ``InvalidRequest``."""
        self._position = 0
        self._state = ""
        self._open = threading.Event()
        self._open.set()

    def write(self, batch: WriteBatch) -> None:
        self.write_calls += 1
        self._open.wait()
        if self.fail_times > 0:
            self.fail_times -= 1
            raise Unavailable("storage told to fail")
        rejected = self.reject_tags.intersection(tags_of(batch))
        if rejected:
            raise InvalidRequest(f"storage told to reject {sorted(rejected)}")
        self.batches.append(batch)
        if batch.wal_position is not None:
            assert batch.wal_position > self._position, "wal_position must only grow"
            self._position = batch.wal_position
        if batch.ingest_state is not None:
            self._state = batch.ingest_state

    insert_rows = 122_880  # as DuckDB's row groups

    def wal_position(self) -> int:
        return self._position

    def ingest_state(self) -> str:
        return self._state

    def freeze(self) -> None:
        """Block every later write until ``thaw``: a process stuck, then killed."""
        self._open.clear()

    def thaw(self) -> None:
        self._open.set()

    def clone(self) -> RecordingStorage:
        """What a persistent store would hold after a crash: its committed batches."""
        copy = RecordingStorage()
        copy.batches = list(self.batches)
        copy._position = self._position
        copy._state = self._state
        return copy

    def tags(self) -> list[str]:
        """Tags of every stored request, in storage order (duplicates kept)."""
        return [tag for batch in self.batches for tag in tags_of(batch)]


def _tag(tag: str) -> Resource:
    return Resource(attributes=[KeyValue(key=TAG_KEY, value=AnyValue(string_value=tag))])


def _tag_of(resource: Resource) -> str:
    return next(kv.value.string_value for kv in resource.attributes if kv.key == TAG_KEY)


def tags_of(batch: WriteBatch) -> Iterator[str]:
    """Tags of the requests in a batch: traces, then metrics, then logs.

    The pipeline hands storage flattened rows; every row of a test request carries its
    tag, and each request's rows are contiguous, so a request is a run of equal tags.
    """
    for name in _TAGGED_TABLES:
        if name in batch.tables:
            rows = batch.tables[name].column("ResourceAttributes").to_pylist()
            tags = [dict(attributes)[TAG_KEY] for attributes in rows]
            yield from (tag for i, tag in enumerate(tags) if i == 0 or tags[i - 1] != tag)


def rows_by_tag(storage: RecordingStorage) -> collections.Counter[str]:
    """Rows stored per test request (its tag), over every batch: a request split across
    inserts counts once per row, wherever its rows went."""
    counts: collections.Counter[str] = collections.Counter()
    for batch in storage.batches:
        for name in _TAGGED_TABLES:
            if name in batch.tables:
                rows = batch.tables[name].column("ResourceAttributes").to_pylist()
                counts.update(dict(attributes)[TAG_KEY] for attributes in rows)
    return counts


def requests_in(batch: WriteBatch) -> int:
    """How many (uniquely tagged) test requests a batch holds."""
    return len(list(tags_of(batch)))


def tag_of(request: ExportRequest) -> str:
    if isinstance(request, ExportTraceServiceRequest):
        return _tag_of(request.resource_spans[0].resource)
    if isinstance(request, ExportMetricsServiceRequest):
        return _tag_of(request.resource_metrics[0].resource)
    return _tag_of(request.resource_logs[0].resource)


def make_traces(tag: str, spans: int = 10) -> ExportTraceServiceRequest:
    """A request of ``spans`` spans (~10 attributes each) under one resource tagged ``tag``."""
    trace_id = (zlib.crc32(tag.encode()) + 1).to_bytes(16, "big")
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=_tag(tag),
                scope_spans=[
                    ScopeSpans(
                        scope=InstrumentationScope(name="tests.pipeline", version="1"),
                        spans=[_span(trace_id, i) for i in range(spans)],
                    )
                ],
            )
        ]
    )


def _span(trace_id: bytes, i: int) -> Span:
    start = 1_700_000_000_000_000_000 + i * 1000
    return Span(
        trace_id=trace_id,
        span_id=(i + 1).to_bytes(8, "big"),
        parent_span_id=b"" if i == 0 else (1).to_bytes(8, "big"),
        name=f"operation-{i % 7}",
        kind=Span.SPAN_KIND_SERVER,
        start_time_unix_nano=start,
        end_time_unix_nano=start + 5_000_000,
        attributes=[
            KeyValue(key=f"attr.{k}", value=AnyValue(string_value=f"value-{i}-{k}"))
            for k in range(8)
        ]
        + [
            KeyValue(key="http.status_code", value=AnyValue(int_value=200)),
            KeyValue(key="sampled", value=AnyValue(bool_value=True)),
        ],
    )


def make_metrics(tag: str, points: int = 5) -> ExportMetricsServiceRequest:
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=_tag(tag),
                scope_metrics=[
                    ScopeMetrics(
                        metrics=[
                            Metric(
                                name="queue.depth",
                                gauge=Gauge(
                                    data_points=[
                                        NumberDataPoint(time_unix_nano=1 + i, as_int=i)
                                        for i in range(points)
                                    ]
                                ),
                            ),
                            Metric(name="no.data"),
                        ]
                    )
                ],
            )
        ]
    )


def make_logs(tag: str, records: int = 3) -> ExportLogsServiceRequest:
    return ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                resource=_tag(tag),
                scope_logs=[
                    ScopeLogs(
                        log_records=[
                            LogRecord(
                                time_unix_nano=1 + i,
                                body=AnyValue(string_value=f"line {i}"),
                            )
                            for i in range(records)
                        ]
                    )
                ],
            )
        ]
    )


@dataclass
class VirtualTime:
    """A clock that moves only when the code under test sleeps; every sleep is recorded,
    and returns at once."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)

"""otelite in otelite: its own traces and metrics, received like anyone else's.

``otelite serve --self-telemetry`` traces the query API's requests, the storage queries
behind them and every storage write with the OpenTelemetry SDK, and every ``interval``
seconds turns the series of ``/metrics`` into OTLP metrics. Both go through the same
validation and pipeline as a client's export (``export``), under the service name
``otelite``, in this process: no port, no token, no network.

The metrics are the ``/metrics`` registry's, converted (counters to monotonic cumulative
sums, gauges to gauges, histograms to explicit-bucket histograms), so one series has one
definition and the same name in both places.

Storing self-telemetry is itself a write, which is traced: a steady trickle of one write
span per export, never a feedback that grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AGGREGATION_TEMPORALITY_CUMULATIVE,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as ResourceProto
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Tracer
from prometheus_client.registry import Collector

from otelite import __version__
from otelite.config import Limits
from otelite.errors import OteliteError
from otelite.pipeline import Consumer, PipelineStats
from otelite.receivers._export import decode_request_proto, export
from otelite.types import ExportMetricsServiceRequest, ExportRequest, Signal

__all__ = ["SELF_SERVICE", "SelfTelemetry"]

SELF_SERVICE = "otelite"
"""The service name otelite's own telemetry is stored under."""

_log = logging.getLogger("otelite.self_telemetry")
_SCOPE = "otelite"
_UNITS = (("_seconds", "s"), ("_bytes", "By"))
_SEND_TIMEOUT = 30.0


class SelfTelemetry:
    """The tracer otelite's components trace with, and the exports of what it records.

    Built before the pipeline, so that the pipeline can take ``tracer``; ``start``
    connects it to the consumer once that runs. Spans ended before that are not kept.
    """

    def __init__(self, *, limits: Limits, interval: float = 15.0) -> None:
        self._limits = limits
        self._interval = interval
        self._resource = Resource.create(
            {
                "service.name": SELF_SERVICE,
                "service.version": __version__,
                "service.instance.id": str(uuid.uuid4()),
            }
        )
        # No atexit hook: the server shuts this down, in order, before the pipeline.
        self._provider = TracerProvider(resource=self._resource, shutdown_on_exit=False)
        self.tracer: Tracer = self._provider.get_tracer(_SCOPE, __version__)
        self._processor: BatchSpanProcessor | None = None
        self._sink: _Sink | None = None
        self._metrics: Collector | None = None
        self._started_ns = time.time_ns()
        self._task: asyncio.Task[None] | None = None

    async def start(
        self, consumer: Consumer, *, tenant: str, stats: PipelineStats, metrics: Collector
    ) -> None:
        """Send spans and, every ``interval`` seconds, ``metrics`` to ``consumer``."""
        sink = _Sink(consumer, asyncio.get_running_loop(), self._limits, stats, tenant)
        self._sink, self._metrics = sink, metrics
        self._processor = BatchSpanProcessor(_SpanSink(sink))
        self._provider.add_span_processor(self._processor)
        self._task = asyncio.create_task(self._every_interval(), name="self-telemetry")

    async def flush(self) -> None:
        """Send the spans ended so far and the metrics as of now, and wait for both."""
        if self._processor is not None:
            await asyncio.to_thread(self._processor.force_flush)
        await self._send_metrics()

    async def shutdown(self) -> None:
        """Send what is left (spans and a last reading of the metrics), then stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            await self._send_metrics()
        # In a thread: the exporter waits on this loop to take the last spans.
        await asyncio.to_thread(self._provider.shutdown)

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self._send_metrics()
            except Exception:
                _log.exception("own metrics could not be read")

    async def _send_metrics(self) -> None:
        sink, metrics = self._sink, self._metrics
        if sink is None or metrics is None:
            return
        families = await asyncio.to_thread(lambda: list(metrics.collect()))
        request = metrics_request(families, self._resource, self._started_ns, time.time_ns())
        await sink.send(Signal.METRICS, request)


class _Sink:
    """Hands requests to the consumer through the receivers' own validation."""

    def __init__(
        self,
        consumer: Consumer,
        loop: asyncio.AbstractEventLoop,
        limits: Limits,
        stats: PipelineStats,
        tenant: str,
    ) -> None:
        self._consumer = consumer
        self.loop = loop
        self._limits = limits
        self._stats = stats
        self._tenant = tenant

    async def send(self, signal: Signal, request: ExportRequest) -> bool:
        try:
            await export(
                self._consumer,
                signal,
                request.SerializeToString(),
                decode_request_proto,
                limits=self._limits,
                stats=self._stats,
                tenant=self._tenant,
            )
        except OteliteError as error:
            # Never more than the pipeline would tell any client; ingest goes on.
            _log.warning("own %s not stored: %s", signal.value, error)
            return False
        return True


class _SpanSink(SpanExporter):
    """The span exporter: runs on the SDK's thread, hands each batch to the event loop."""

    def __init__(self, sink: _Sink) -> None:
        self._sink = sink

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        sent = asyncio.run_coroutine_threadsafe(
            self._sink.send(Signal.TRACES, encode_spans(spans)), self._sink.loop
        )
        try:
            stored = sent.result(timeout=_SEND_TIMEOUT)
        except Exception as error:  # the loop stopped, or storage is far behind
            _log.warning("own spans not stored: %s", error)
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS if stored else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        pass


def metrics_request(
    families: Iterable[Any], resource: Resource, start_ns: int, now_ns: int
) -> ExportMetricsServiceRequest:
    """Prometheus metric families as one OTLP request, cumulative since ``start_ns``."""
    metrics = []
    for family in families:
        convert = _CONVERTERS.get(family.type)
        if convert is not None:
            metric = convert(family, start_ns, now_ns)
            if metric is not None:
                metrics.append(metric)
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=ResourceProto(attributes=_key_values(dict(resource.attributes))),
                scope_metrics=[
                    ScopeMetrics(
                        scope=InstrumentationScope(name=_SCOPE, version=__version__),
                        metrics=metrics,
                    )
                ],
            )
        ]
    )


def _counter(family: Any, start_ns: int, now_ns: int) -> Metric | None:
    points = [
        NumberDataPoint(
            attributes=_key_values(sample.labels),
            start_time_unix_nano=start_ns,
            time_unix_nano=now_ns,
            as_double=float(sample.value),
        )
        for sample in family.samples
        if sample.name == f"{family.name}_total"
    ]
    if not points:
        return None
    return _metric(
        family,
        sum=Sum(
            data_points=points,
            aggregation_temporality=AGGREGATION_TEMPORALITY_CUMULATIVE,
            is_monotonic=True,
        ),
    )


def _gauge(family: Any, start_ns: int, now_ns: int) -> Metric | None:
    points = [
        NumberDataPoint(
            attributes=_key_values(sample.labels),
            time_unix_nano=now_ns,
            as_double=float(sample.value),
        )
        for sample in family.samples
        if sample.name == family.name
    ]
    if not points:
        return None
    return _metric(family, gauge=Gauge(data_points=points))


def _histogram(family: Any, start_ns: int, now_ns: int) -> Metric | None:
    # Per label set: the cumulative bucket counts by upper bound, the sum and the count.
    buckets: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = defaultdict(list)
    sums: dict[tuple[tuple[str, str], ...], float] = {}
    counts: dict[tuple[tuple[str, str], ...], float] = {}
    for sample in family.samples:
        labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
        if sample.name == f"{family.name}_bucket":
            buckets[labels].append((float(sample.labels["le"]), float(sample.value)))
        elif sample.name == f"{family.name}_sum":
            sums[labels] = float(sample.value)
        elif sample.name == f"{family.name}_count":
            counts[labels] = float(sample.value)
    points = []
    for labels, cumulative in buckets.items():
        cumulative.sort()
        bounds = [bound for bound, _ in cumulative if not math.isinf(bound)]
        per_bucket, below = [], 0.0
        for _, total in cumulative:
            per_bucket.append(int(total - below))
            below = total
        points.append(
            HistogramDataPoint(
                attributes=_key_values(dict(labels)),
                start_time_unix_nano=start_ns,
                time_unix_nano=now_ns,
                count=int(counts.get(labels, below)),
                sum=sums.get(labels, 0.0),
                explicit_bounds=bounds,
                bucket_counts=per_bucket,
            )
        )
    if not points:
        return None
    return _metric(
        family,
        histogram=Histogram(
            data_points=points, aggregation_temporality=AGGREGATION_TEMPORALITY_CUMULATIVE
        ),
    )


_CONVERTERS = {"counter": _counter, "gauge": _gauge, "histogram": _histogram}


def _metric(family: Any, **data: Any) -> Metric:
    """The OTLP metric of ``family`` holding ``data`` (its sum, gauge or histogram)."""
    unit = next((unit for suffix, unit in _UNITS if family.name.endswith(suffix)), "")
    return Metric(name=family.name, description=family.documentation, unit=unit, **data)


def _key_values(values: dict[str, Any]) -> list[KeyValue]:
    pairs = []
    for key, value in values.items():
        if isinstance(value, bool):
            any_value = AnyValue(bool_value=value)
        elif isinstance(value, int):
            any_value = AnyValue(int_value=value)
        elif isinstance(value, float):
            any_value = AnyValue(double_value=value)
        else:
            any_value = AnyValue(string_value=str(value))
        pairs.append(KeyValue(key=key, value=any_value))
    return pairs

"""Hypothesis strategies for OTLP export requests of all three signals.

Every field of every message is generated, with values otelite's validation accepts:
ids of the right length (span and link ids never all zero; parent, log and exemplar ids
possibly empty), times within signed 64-bit nanoseconds, enums within their defined
values, attribute keys unique within each list (including nested key-value lists).

By default the requests look like what a store must give back unchanged: resources,
scopes and span statuses are always present, every metric has a data type, and every
number point and exemplar has a value. ``extended=True`` adds what the protocol allows
beyond that, for codec tests: absent resources, scopes and statuses, key-values without
a value, metrics without data, points without a value, ``Resource.entity_refs`` and the
profiles-only string-table references (``KeyValue.key_strindex``,
``AnyValue.string_value_strindex``).

Doubles include infinities, ``-0.0`` and NaN (only the canonical NaN: OTLP/JSON and most
stores keep no NaN payload). Because ``NaN != NaN``, compare messages with
:func:`same_message`, not ``==``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import strategies as st
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    EntityRef,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs, SeverityNumber
from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
    Signal,
)

__all__ = [
    "any_values",
    "attributes",
    "export_requests",
    "logs_requests",
    "metrics_requests",
    "same_message",
    "trace_requests",
]

T = TypeVar("T")
P = TypeVar(
    "P",
    m.NumberDataPoint,
    m.HistogramDataPoint,
    m.ExponentialHistogramDataPoint,
    m.SummaryDataPoint,
)

TEXT = st.text(max_size=12)
UINT32 = st.integers(0, 2**32 - 1)
INT32 = st.integers(-(2**31), 2**31 - 1)
UINT64 = st.integers(0, 2**64 - 1)
INT64 = st.integers(-(2**63), 2**63 - 1)
TIMES = st.integers(0, 2**63 - 1)
DOUBLES = st.floats(allow_nan=False) | st.just(math.nan)
SPAN_KINDS = st.integers(0, 5).map(Span.SpanKind.ValueType)
TEMPORALITIES = st.integers(0, 2).map(m.AggregationTemporality.ValueType)
SEVERITIES = st.integers(0, 24).map(SeverityNumber.ValueType)
SMALL = 2  # longest generated list: keeps examples quick to build and to shrink


def _ids(size: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=size, max_size=size).filter(any)


TRACE_IDS = _ids(16)
SPAN_IDS = _ids(8)
OPTIONAL_TRACE_IDS = st.just(b"") | TRACE_IDS
OPTIONAL_SPAN_IDS = st.just(b"") | SPAN_IDS


def same_message(a: Any, b: Any) -> bool:
    """Protobuf messages equal field by field, NaN included."""
    return bool(
        type(a) is type(b)
        and a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)
    )


@functools.cache
def any_values(*, extended: bool = False, max_leaves: int = 6) -> st.SearchStrategy[AnyValue]:
    """``AnyValue`` of every kind, nesting arrays and key-value lists."""
    leaves = st.one_of(
        st.just(AnyValue()),
        TEXT.map(lambda v: AnyValue(string_value=v)),
        st.booleans().map(lambda v: AnyValue(bool_value=v)),
        INT64.map(lambda v: AnyValue(int_value=v)),
        DOUBLES.map(lambda v: AnyValue(double_value=v)),
        st.binary(max_size=12).map(lambda v: AnyValue(bytes_value=v)),
    )
    if extended:
        leaves |= INT32.map(lambda v: AnyValue(string_value_strindex=v))

    def nest(children: st.SearchStrategy[AnyValue]) -> st.SearchStrategy[AnyValue]:
        arrays = st.lists(children, max_size=SMALL).map(
            lambda vs: AnyValue(array_value=ArrayValue(values=vs))
        )
        kvlists = _key_values(children, extended=extended).map(
            lambda kvs: AnyValue(kvlist_value=KeyValueList(values=kvs))
        )
        return arrays | kvlists

    return st.recursive(leaves, nest, max_leaves=max_leaves)


@functools.cache
def attributes(*, extended: bool = False) -> st.SearchStrategy[list[KeyValue]]:
    """An attribute list with unique keys."""
    return _key_values(any_values(extended=extended), extended=extended)


def _key_values(
    values: st.SearchStrategy[AnyValue], *, extended: bool
) -> st.SearchStrategy[list[KeyValue]]:
    if not extended:
        return st.dictionaries(TEXT, values, max_size=SMALL).map(
            lambda d: [KeyValue(key=k, value=v) for k, v in d.items()]
        )

    def build(items: dict[str, tuple[AnyValue | None, int]]) -> list[KeyValue]:
        out = []
        for key, (value, strindex) in items.items():
            kv = KeyValue(key=key, key_strindex=strindex)
            if value is not None:
                kv.value.CopyFrom(value)
            out.append(kv)
        return out

    pairs = st.tuples(st.none() | values, st.just(0) | INT32)
    return st.dictionaries(TEXT, pairs, max_size=SMALL).map(build)


def _maybe(strategy: st.SearchStrategy[T], present: bool) -> st.SearchStrategy[T | None]:
    return strategy if present else (st.none() | strategy)


def _small_lists(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[list[T]]:
    return st.lists(strategy, max_size=SMALL)


ENTITY_REFS = st.lists(
    st.builds(
        EntityRef,
        schema_url=TEXT,
        type=TEXT,
        id_keys=st.lists(TEXT, max_size=SMALL),
        description_keys=st.lists(TEXT, max_size=SMALL),
    ),
    max_size=SMALL,
)


@st.composite
def _resources(draw: st.DrawFn, extended: bool) -> Resource:
    resource = Resource(
        attributes=draw(attributes(extended=extended)), dropped_attributes_count=draw(UINT32)
    )
    if extended:
        resource.entity_refs.extend(draw(ENTITY_REFS))
    return resource


@functools.cache
def _scopes(extended: bool) -> st.SearchStrategy[InstrumentationScope]:
    return st.builds(
        InstrumentationScope,
        name=TEXT,
        version=TEXT,
        attributes=attributes(extended=extended),
        dropped_attributes_count=UINT32,
    )


@st.composite
def _envelopes(
    draw: st.DrawFn,
    resource_type: Callable[..., Any],
    scope_type: Callable[..., Any],
    scopes_field: str,
    items_field: str,
    items: st.SearchStrategy[Any],
    extended: bool,
) -> Any:
    """One ``Resource*`` message holding ``Scope*`` messages holding ``items``."""
    envelope = resource_type(schema_url=draw(TEXT))
    resource = draw(_maybe(_resources(extended), not extended))
    if resource is not None:
        envelope.resource.CopyFrom(resource)
    for _ in range(draw(st.integers(0, 2))):
        scoped = scope_type(schema_url=draw(TEXT))
        scope = draw(_maybe(_scopes(extended), not extended))
        if scope is not None:
            scoped.scope.CopyFrom(scope)
        getattr(scoped, items_field).extend(draw(_small_lists(items)))
        getattr(envelope, scopes_field).append(scoped)
    return envelope


@functools.cache
def _events(extended: bool) -> st.SearchStrategy[list[Span.Event]]:
    event = st.builds(
        Span.Event,
        time_unix_nano=TIMES,
        name=TEXT,
        attributes=attributes(extended=extended),
        dropped_attributes_count=UINT32,
    )
    return _small_lists(event)


@functools.cache
def _links(extended: bool) -> st.SearchStrategy[list[Span.Link]]:
    link = st.builds(
        Span.Link,
        trace_id=TRACE_IDS,
        span_id=SPAN_IDS,
        trace_state=TEXT,
        attributes=attributes(extended=extended),
        dropped_attributes_count=UINT32,
        flags=UINT32,
    )
    return _small_lists(link)


STATUSES = st.builds(Status, message=TEXT, code=st.integers(0, 2))


@st.composite
def _spans(draw: st.DrawFn, extended: bool) -> Span:
    span = Span(
        trace_id=draw(TRACE_IDS),
        span_id=draw(SPAN_IDS),
        trace_state=draw(TEXT),
        parent_span_id=draw(OPTIONAL_SPAN_IDS),
        flags=draw(UINT32),
        name=draw(TEXT),
        kind=draw(SPAN_KINDS),
        start_time_unix_nano=draw(TIMES),
        end_time_unix_nano=draw(TIMES),
        attributes=draw(attributes(extended=extended)),
        dropped_attributes_count=draw(UINT32),
        dropped_events_count=draw(UINT32),
        dropped_links_count=draw(UINT32),
        events=draw(_events(extended)),
        links=draw(_links(extended)),
    )
    status = draw(_maybe(STATUSES, not extended))
    if status is not None:
        span.status.CopyFrom(status)
    return span


def trace_requests(*, extended: bool = False) -> st.SearchStrategy[ExportTraceServiceRequest]:
    """``ExportTraceServiceRequest`` with every span field (see the module docstring)."""
    envelopes = _envelopes(
        ResourceSpans, ScopeSpans, "scope_spans", "spans", _spans(extended), extended
    )
    return _small_lists(envelopes).map(lambda rs: ExportTraceServiceRequest(resource_spans=rs))


@st.composite
def _value(draw: st.DrawFn, message: Any, extended: bool) -> None:
    """Set the ``as_double``/``as_int`` oneof of a number point or exemplar."""
    choice = draw(st.sampled_from(["double", "int", "none"] if extended else ["double", "int"]))
    if choice == "double":
        message.as_double = draw(DOUBLES)
    elif choice == "int":
        message.as_int = draw(INT64)


@st.composite
def _exemplars(draw: st.DrawFn, extended: bool) -> m.Exemplar:
    exemplar = m.Exemplar(
        filtered_attributes=draw(attributes(extended=extended)),
        time_unix_nano=draw(TIMES),
        span_id=draw(OPTIONAL_SPAN_IDS),
        trace_id=draw(OPTIONAL_TRACE_IDS),
    )
    draw(_value(exemplar, extended))
    return exemplar


@st.composite
def _point_common(draw: st.DrawFn, point: P, extended: bool) -> P:
    """Fill the fields all data point types share."""
    point.attributes.extend(draw(attributes(extended=extended)))
    point.start_time_unix_nano = draw(TIMES)
    point.time_unix_nano = draw(TIMES)
    point.flags = draw(UINT32)
    if not isinstance(point, m.SummaryDataPoint):
        point.exemplars.extend(draw(_small_lists(_exemplars(extended))))
    return point


@st.composite
def _number_points(draw: st.DrawFn, extended: bool) -> m.NumberDataPoint:
    point = draw(_point_common(m.NumberDataPoint(), extended))
    draw(_value(point, extended))
    return point


@st.composite
def _optional_doubles(draw: st.DrawFn, point: Any, names: tuple[str, ...]) -> None:
    for name in names:
        value = draw(st.none() | DOUBLES)
        if value is not None:
            setattr(point, name, value)


BUCKETS = st.builds(
    m.ExponentialHistogramDataPoint.Buckets,
    offset=INT32,
    bucket_counts=st.lists(UINT64, max_size=SMALL),
)
QUANTILES = st.lists(
    st.builds(m.SummaryDataPoint.ValueAtQuantile, quantile=DOUBLES, value=DOUBLES),
    max_size=SMALL,
)


@st.composite
def _histogram_points(draw: st.DrawFn, extended: bool) -> m.HistogramDataPoint:
    point = draw(_point_common(m.HistogramDataPoint(), extended))
    point.count = draw(UINT64)
    point.bucket_counts.extend(draw(_small_lists(UINT64)))
    point.explicit_bounds.extend(draw(_small_lists(DOUBLES)))
    draw(_optional_doubles(point, ("sum", "min", "max")))
    return point


@st.composite
def _exponential_points(draw: st.DrawFn, extended: bool) -> m.ExponentialHistogramDataPoint:
    point = draw(_point_common(m.ExponentialHistogramDataPoint(), extended))
    point.count = draw(UINT64)
    point.scale = draw(INT32)
    point.zero_count = draw(UINT64)
    point.zero_threshold = draw(DOUBLES)
    draw(_optional_doubles(point, ("sum", "min", "max")))
    for name in ("positive", "negative"):
        value = draw(st.none() | BUCKETS)
        if value is not None:
            getattr(point, name).CopyFrom(value)
    return point


@st.composite
def _summary_points(draw: st.DrawFn, extended: bool) -> m.SummaryDataPoint:
    point = draw(_point_common(m.SummaryDataPoint(), extended))
    point.count = draw(UINT64)
    point.sum = draw(DOUBLES)
    point.quantile_values.extend(draw(QUANTILES))
    return point


@st.composite
def _metrics(draw: st.DrawFn, extended: bool) -> m.Metric:
    metric = m.Metric(
        name=draw(TEXT),
        description=draw(TEXT),
        unit=draw(TEXT),
        metadata=draw(attributes(extended=extended)),
    )
    kinds = ["gauge", "sum", "histogram", "exponential_histogram", "summary"]
    kind = draw(st.sampled_from([*kinds, "none"] if extended else kinds))
    temporality = TEMPORALITIES
    if kind == "gauge":
        metric.gauge.SetInParent()
        metric.gauge.data_points.extend(draw(_small_lists(_number_points(extended))))
    elif kind == "sum":
        metric.sum.SetInParent()
        metric.sum.aggregation_temporality = draw(temporality)
        metric.sum.is_monotonic = draw(st.booleans())
        metric.sum.data_points.extend(draw(_small_lists(_number_points(extended))))
    elif kind == "histogram":
        metric.histogram.SetInParent()
        metric.histogram.aggregation_temporality = draw(temporality)
        metric.histogram.data_points.extend(draw(_small_lists(_histogram_points(extended))))
    elif kind == "exponential_histogram":
        data = metric.exponential_histogram
        data.SetInParent()
        data.aggregation_temporality = draw(temporality)
        data.data_points.extend(draw(_small_lists(_exponential_points(extended))))
    elif kind == "summary":
        metric.summary.SetInParent()
        metric.summary.data_points.extend(draw(_small_lists(_summary_points(extended))))
    return metric


def metrics_requests(*, extended: bool = False) -> st.SearchStrategy[ExportMetricsServiceRequest]:
    """``ExportMetricsServiceRequest`` with all five data types and every point field."""
    envelopes = _envelopes(
        m.ResourceMetrics, m.ScopeMetrics, "scope_metrics", "metrics", _metrics(extended), extended
    )
    return _small_lists(envelopes).map(lambda rm: ExportMetricsServiceRequest(resource_metrics=rm))


@st.composite
def _log_records(draw: st.DrawFn, extended: bool) -> LogRecord:
    record = LogRecord(
        time_unix_nano=draw(TIMES),
        observed_time_unix_nano=draw(TIMES),
        severity_number=draw(SEVERITIES),
        severity_text=draw(TEXT),
        attributes=draw(attributes(extended=extended)),
        dropped_attributes_count=draw(UINT32),
        flags=draw(UINT32),
        trace_id=draw(OPTIONAL_TRACE_IDS),
        span_id=draw(OPTIONAL_SPAN_IDS),
        event_name=draw(TEXT),
    )
    body = draw(st.none() | any_values(extended=extended))
    if body is not None:
        record.body.CopyFrom(body)
    return record


def logs_requests(*, extended: bool = False) -> st.SearchStrategy[ExportLogsServiceRequest]:
    """``ExportLogsServiceRequest`` with every log record field, body present or absent."""
    envelopes = _envelopes(
        ResourceLogs, ScopeLogs, "scope_logs", "log_records", _log_records(extended), extended
    )
    return _small_lists(envelopes).map(lambda rl: ExportLogsServiceRequest(resource_logs=rl))


def export_requests(signal: Signal, *, extended: bool = False) -> st.SearchStrategy[ExportRequest]:
    """The request strategy for ``signal``."""
    strategies: dict[Signal, Callable[..., st.SearchStrategy[Any]]] = {
        Signal.TRACES: trace_requests,
        Signal.METRICS: metrics_requests,
        Signal.LOGS: logs_requests,
    }
    strategy: st.SearchStrategy[ExportRequest] = strategies[signal](extended=extended)
    return strategy

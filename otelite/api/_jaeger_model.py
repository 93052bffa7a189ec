"""Jaeger's view of OTLP traces: the v1 JSON trace model, v3 trace summaries, and the
search conditions behind the tags that model makes from span fields. No I/O here.

The mapping is the OpenTelemetry Collector's (``pkg/translator/jaeger``) as Jaeger's UI
model writes it (``internal/uimodel``):

* a resource is a *process*: ``service.name`` its ``serviceName`` (``""`` when it is not
  a string, as storage reads it), the other attributes its tags; equal processes share
  one id, ``p1``, ``p2``, ... in order of first use;
* a span's parent is its first reference (``CHILD_OF``); its links follow as
  ``FOLLOWS_FROM`` (``CHILD_OF`` when the link's ``opentracing.ref_type`` says
  ``child_of``; a link to the parent only retypes the parent's reference);
* its tags are the scope's name and version, its attributes, then ``span.kind`` (none
  for internal or unspecified spans), ``otel.status_code`` (``OK``/``ERROR``), ``error``
  (``true`` on ERROR), ``otel.status_description`` and ``w3c.tracestate``;
* its events are logs, with the event name as the field ``event`` unless an attribute
  has that key;
* times and durations are µs (truncated), trace ids 16 hex digits when the high 64 bits
  are zero, else 32; ``flags`` is 1 for a sampled span, absent otherwise;
* tag values are typed: ``int64`` outside ±(2⁵³ - 1) as a decimal string (a JavaScript
  number would lose digits), ``binary`` as base64, arrays and key-value lists as their
  JSON text (``string``), non-finite doubles as ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

from otelite.otlp import double_to_json, go_json_text
from otelite.query import (
    Attribute,
    Column,
    Compare,
    Nested,
    NestedCompare,
    Not,
    Op,
    Or,
    Predicate,
    SpanStatus,
)
from otelite.types import ExportTraceServiceRequest

__all__ = [
    "jaeger_span_id",
    "jaeger_trace_id",
    "operation_kind",
    "tag_condition",
    "trace_json",
    "trace_summary",
]

_JS_SAFE = 2**53 - 1
_SAMPLED = 0x01  # W3C trace flags (the low byte of OTLP span flags): sampled
_NS_PER_US = 1000
_REF_TYPE = "opentracing.ref_type"
_KINDS: dict[int, str] = {
    Span.SPAN_KIND_INTERNAL: "internal",
    Span.SPAN_KIND_SERVER: "server",
    Span.SPAN_KIND_CLIENT: "client",
    Span.SPAN_KIND_PRODUCER: "producer",
    Span.SPAN_KIND_CONSUMER: "consumer",
}
_STATUS_NAMES: dict[int, str] = {Status.STATUS_CODE_OK: "OK", Status.STATUS_CODE_ERROR: "ERROR"}
# Tags made from span fields rather than attributes, and the column each one shows.
_FIELD_TAGS = {
    "otel.status_description": "StatusMessage",
    "otel.scope.name": "ScopeName",
    "otel.scope.version": "ScopeVersion",
    "w3c.tracestate": "TraceState",
}
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})  # Go's strconv.ParseBool
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def jaeger_trace_id(trace_id: bytes) -> str:
    """Jaeger's text of a trace id: 16 hex digits when the high 64 bits are zero, else 32."""
    high, low = trace_id[:-8], trace_id[-8:]
    if int.from_bytes(high, "big") == 0:
        return f"{int.from_bytes(low, 'big'):016x}"
    return f"{int.from_bytes(high, 'big'):016x}{int.from_bytes(low, 'big'):016x}"


def jaeger_span_id(span_id: bytes) -> str:
    return f"{int.from_bytes(span_id, 'big'):016x}"


def operation_kind(kind: int) -> str:
    """A span kind as Jaeger names operations' kinds (``""`` for unspecified)."""
    return _KINDS.get(kind, "")


def _value(value: AnyValue) -> tuple[str, Any]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return "string", value.string_value
    if kind == "bool_value":
        return "bool", value.bool_value
    if kind == "int_value":
        number = value.int_value
        return "int64", number if -_JS_SAFE <= number <= _JS_SAFE else str(number)
    if kind == "double_value":
        return "float64", double_to_json(value.double_value)
    if kind == "bytes_value":
        return "binary", base64.b64encode(value.bytes_value).decode("ascii")
    # Arrays, key-value lists and empty values: their text, as the Collector writes it.
    return "string", go_json_text(value)


def _tag(key: str, value: AnyValue) -> dict[str, Any]:
    kind, plain = _value(value)
    return {"key": key, "type": kind, "value": plain}


def _string_tag(key: str, text: str) -> dict[str, Any]:
    return {"key": key, "type": "string", "value": text}


def _tags(attributes: Any) -> list[dict[str, Any]]:
    return [_tag(kv.key, kv.value) for kv in attributes]


def _service(resource_spans: ResourceSpans) -> str:
    for kv in resource_spans.resource.attributes:
        if kv.key == "service.name":
            return kv.value.string_value
    return ""


def _spans(trace: ExportTraceServiceRequest) -> Iterator[tuple[ResourceSpans, Any, Span]]:
    for resource_spans in trace.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield resource_spans, scope_spans, span


def trace_json(trace: ExportTraceServiceRequest) -> dict[str, Any]:
    """One trace as Jaeger's v1 JSON: ``{traceID, spans, processes, warnings}``."""
    process_ids: dict[bytes, str] = {}
    processes: dict[str, dict[str, Any]] = {}
    spans: list[dict[str, Any]] = []
    for resource_spans in trace.resource_spans:
        if not any(scope_spans.spans for scope_spans in resource_spans.scope_spans):
            continue  # a process is listed only for the spans that name it
        process = {
            "serviceName": _service(resource_spans),
            "tags": [
                _tag(kv.key, kv.value)
                for kv in resource_spans.resource.attributes
                if kv.key != "service.name"
            ],
        }
        identity = orjson.dumps(process)
        process_id = process_ids.get(identity)
        if process_id is None:
            process_id = process_ids[identity] = f"p{len(process_ids) + 1}"
            processes[process_id] = process
        for scope_spans in resource_spans.scope_spans:
            spans.extend(_span(span, scope_spans.scope, process_id) for span in scope_spans.spans)
    return {
        "traceID": spans[0]["traceID"] if spans else "",
        "spans": spans,
        "processes": processes,
        "warnings": None,
    }


def _span(span: Span, scope: InstrumentationScope, process_id: str) -> dict[str, Any]:
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    found: dict[str, Any] = {
        "traceID": jaeger_trace_id(span.trace_id),
        "spanID": jaeger_span_id(span.span_id),
        "operationName": span.name,
        "references": _references(span),
        "startTime": start // _NS_PER_US,
        "duration": max(0, end - start) // _NS_PER_US,
        "tags": _span_tags(span, scope),
        "logs": [_log(event) for event in span.events],
        "processID": process_id,
        "warnings": None,
    }
    if span.flags & _SAMPLED:
        found["flags"] = 1
    return found


def _references(span: Span) -> list[dict[str, str]]:
    references = []
    if span.parent_span_id:
        references.append(_reference("CHILD_OF", span.trace_id, span.parent_span_id))
    for link in span.links:
        ref_type = "FOLLOWS_FROM"
        for kv in link.attributes:
            if kv.key == _REF_TYPE and kv.value.string_value == "child_of":
                ref_type = "CHILD_OF"
        if span.parent_span_id and (link.trace_id, link.span_id) == (
            span.trace_id,
            span.parent_span_id,
        ):
            references[0]["refType"] = ref_type
            continue
        references.append(_reference(ref_type, link.trace_id, link.span_id))
    return references


def _reference(ref_type: str, trace_id: bytes, span_id: bytes) -> dict[str, str]:
    return {
        "refType": ref_type,
        "traceID": jaeger_trace_id(trace_id),
        "spanID": jaeger_span_id(span_id),
    }


def _span_tags(span: Span, scope: InstrumentationScope) -> list[dict[str, Any]]:
    tags = []
    if scope.name:
        tags.append(_string_tag("otel.scope.name", scope.name))
    if scope.version:
        tags.append(_string_tag("otel.scope.version", scope.version))
    tags.extend(_tags(span.attributes))
    if span.kind in _KINDS and span.kind != Span.SPAN_KIND_INTERNAL:
        tags.append(_string_tag("span.kind", _KINDS[span.kind]))
    status = _STATUS_NAMES.get(span.status.code)
    if status is not None:
        tags.append(_string_tag("otel.status_code", status))
    if span.status.code == Status.STATUS_CODE_ERROR:
        tags.append({"key": "error", "type": "bool", "value": True})
    if span.status.message:
        tags.append(_string_tag("otel.status_description", span.status.message))
    if span.trace_state:
        tags.append(_string_tag("w3c.tracestate", span.trace_state))
    return tags


def _log(event: Span.Event) -> dict[str, Any]:
    fields = []
    if event.name and not any(kv.key == "event" for kv in event.attributes):
        fields.append(_string_tag("event", event.name))
    fields.extend(_tags(event.attributes))
    return {"timestamp": event.time_unix_nano // _NS_PER_US, "fields": fields}


def trace_summary(trace: ExportTraceServiceRequest) -> dict[str, Any]:
    """One trace as a v3 ``TraceSummary`` (Jaeger's ``querysvc`` rules).

    The root is the earliest span without a parent (none: empty names); an orphan is a
    span whose parent is not in the trace; services are sorted by name. Times are ns as
    strings, as proto3 JSON writes 64-bit integers.
    """
    spans = list(_spans(trace))
    span_ids = {span.span_id for _, _, span in spans}
    services: dict[str, dict[str, Any]] = {}
    root: tuple[int, str, str] | None = None
    orphans = errors = 0
    for resource_spans, _, span in spans:
        service = _service(resource_spans)
        counts = services.setdefault(
            service, {"name": service, "spanCount": 0, "errorSpanCount": 0}
        )
        counts["spanCount"] += 1
        if span.status.code == Status.STATUS_CODE_ERROR:
            counts["errorSpanCount"] += 1
            errors += 1
        if not span.parent_span_id:
            if root is None or span.start_time_unix_nano < root[0]:
                root = (span.start_time_unix_nano, service, span.name)
        elif span.parent_span_id not in span_ids:
            orphans += 1
    _, root_service, root_name = root or (0, "", "")
    return {
        "traceId": spans[0][2].trace_id.hex() if spans else "",
        "rootServiceName": root_service,
        "rootOperationName": root_name,
        "minStartTimeUnixNano": str(min((s.start_time_unix_nano for *_, s in spans), default=0)),
        "maxEndTimeUnixNano": str(max((s.end_time_unix_nano for *_, s in spans), default=0)),
        "spanCount": len(spans),
        "errorSpanCount": errors,
        "orphanSpanCount": orphans,
        "services": [services[name] for name in sorted(services)],
    }


def _field_condition(key: str, value: str) -> Predicate | None:
    """What a search tag ``key=value`` asks of a span when ``trace_json`` makes that tag
    from a span field (``error``, ``span.kind``, ``otel.status_code``, ...); None for a
    tag that is an attribute (or a value no field can have), to be matched as one.
    """
    status = Column("StatusCode")
    if key == "error" and value in _TRUE:
        return Compare(status, Op.EQ, SpanStatus.ERROR.value)
    if key == "error" and value in _FALSE:
        return Not(Compare(status, Op.EQ, SpanStatus.ERROR.value))
    if key == "otel.status_code" and value in ("OK", "ERROR"):
        return Compare(status, Op.EQ, SpanStatus[value].value)
    kinds = {name: kind for kind, name in _KINDS.items()}
    if key == "span.kind" and value in kinds:
        return Compare(Column("SpanKind"), Op.EQ, kinds[value])
    column = _FIELD_TAGS.get(key)
    return None if column is None else Compare(Column(column), Op.EQ, value)


def tag_condition(key: str, value: str) -> Predicate:
    """What a search tag ``key=value`` asks of a span, as Jaeger's storage reads tags:
    the field ``trace_json`` makes that tag from, or else the attribute among the span's
    tags, its process's tags (the resource) or its logs' fields (events; ``event`` is
    also an event's name)."""
    field = _field_condition(key, value)
    if field is not None:
        return field
    found: list[Predicate] = [
        Compare(Attribute(key), Op.EQ, value),
        NestedCompare(Nested.EVENTS, None, key, Op.EQ, value),
    ]
    if key == "event":
        found.append(NestedCompare(Nested.EVENTS, "name", None, Op.EQ, value))
    return Or(tuple(found))

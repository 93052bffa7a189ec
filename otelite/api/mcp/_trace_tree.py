"""One trace as an agent reads it: what failed, what it waited on, what took long.

A trace of hundreds of spans does not fit an agent's context as OTLP/JSON, and most of
its spans say nothing about the question asked. Its spans are listed most telling first:
the spans that failed (those where a failure started, with no failing child, before the
ones it passed through), then those on the critical path (by their time on it), then the
rest by duration. Each span keeps its place in the tree (``parent``, ``depth``), its
service, start and duration (ms from the trace's start), its status, the first
``MAX_ATTRIBUTES`` attributes and ``MAX_EVENTS`` events; resource attributes are given once
per service, in the head. The pager (``_pages``) then cuts the list to the budget.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.otlp import any_value_plain
from otelite.types import ExportTraceServiceRequest

__all__ = ["MAX_ATTRIBUTES", "MAX_EVENTS", "trace_outline"]

MAX_ATTRIBUTES = 15
MAX_EVENTS = 5
_RESOURCE_ATTRIBUTES = 10
_MS = 1e6
_KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


@dataclass(slots=True)
class _Span:
    span: Span
    service: str
    depth: int = 0
    failed_child: bool = False


def trace_outline(
    trace: ExportTraceServiceRequest, path: Mapping[str, Any] | None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The head (trace facts, services with their resources) and the spans, most telling
    first, of ``trace``; ``path`` is the API's critical path of it (None: not known)."""
    spans: dict[bytes, _Span] = {}
    resources: dict[str, dict[str, Any]] = {}
    for resource_spans in trace.resource_spans:
        attributes = _attributes(resource_spans.resource.attributes, _RESOURCE_ATTRIBUTES)
        service = str(attributes.get("service.name", "unknown"))
        resources.setdefault(service, attributes)
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                spans[span.span_id] = _Span(span, service)
    _place(spans)
    start = min((s.span.start_time_unix_nano for s in spans.values()), default=0)
    end = max((s.span.end_time_unix_nano for s in spans.values()), default=0)
    on_path = {
        entry["spanId"]: entry for entry in (path or {}).get("spans", []) if entry.get("spanId")
    }
    errors = [s for s in spans.values() if s.span.status.code == Status.STATUS_CODE_ERROR]
    roots = [s for s in spans.values() if s.depth == 0]
    head: dict[str, Any] = {
        "traceId": next(iter(spans.values())).span.trace_id.hex() if spans else None,
        "durationMs": _ms(end - start),
        "spanCount": len(spans),
        "errorCount": len(errors),
        "root": [_brief(r, start) for r in sorted(roots, key=_start)[:3]],
        "services": resources,
        "order": "spans that failed (where failures started first), then the critical "
        "path by time on it, then the rest by duration; startMs is from the trace's start",
    }
    if path is not None:
        head["criticalPathMs"] = _ms(int(path.get("durationNs", 0)))
    ranked = sorted(spans.values(), key=lambda s: _rank(s, on_path))
    return head, [_item(s, start, on_path.get(s.span.span_id.hex())) for s in ranked]


def _place(spans: dict[bytes, _Span]) -> None:
    """Each span's depth, and whether a child of it failed (without recursion)."""
    for entry in spans.values():
        parent = spans.get(entry.span.parent_span_id)
        if parent is not None and entry.span.status.code == Status.STATUS_CODE_ERROR:
            parent.failed_child = True
    for entry in spans.values():
        depth, seen, node = 0, {entry.span.span_id}, entry
        while (parent := spans.get(node.span.parent_span_id)) is not None:
            if parent.span.span_id in seen:  # a loop of parents: stop where it closes
                break
            seen.add(parent.span.span_id)
            depth, node = depth + 1, parent
        entry.depth = depth


def _rank(entry: _Span, on_path: Mapping[str, Any]) -> tuple[object, ...]:
    span = entry.span
    duration = span.end_time_unix_nano - span.start_time_unix_nano
    if span.status.code == Status.STATUS_CODE_ERROR:
        return (0, entry.failed_child, span.start_time_unix_nano, span.span_id)
    found = on_path.get(span.span_id.hex())
    if found is not None:
        return (1, -float(found.get("selfNs", 0)), span.start_time_unix_nano, span.span_id)
    return (2, -duration, span.start_time_unix_nano, span.span_id)


def _item(entry: _Span, start: int, path: Mapping[str, Any] | None) -> dict[str, Any]:
    item = _brief(entry, start)
    span = entry.span
    item["id"] = span.span_id.hex()
    if span.parent_span_id:
        item["parent"] = span.parent_span_id.hex()
    item["depth"] = entry.depth
    if span.status.code == Status.STATUS_CODE_ERROR:
        item["status"] = "error"
        if span.status.message:
            item["statusMessage"] = span.status.message
        if not entry.failed_child:
            item["failureStartsHere"] = True
    if path is not None:
        item["criticalPathMs"] = _ms(int(path.get("selfNs", 0)))
        item["criticalPathShare"] = round(float(path.get("share", 0.0)), 4)
    attributes = _attributes(span.attributes, MAX_ATTRIBUTES)
    if attributes:
        item["attributes"] = attributes
    if len(span.attributes) > MAX_ATTRIBUTES:
        item["attributesLeftOut"] = len(span.attributes) - MAX_ATTRIBUTES
    if span.events:
        item["events"] = [
            {
                "name": event.name,
                "atMs": _ms(event.time_unix_nano - start),
                **({"attributes": a} if (a := _attributes(event.attributes, 5)) else {}),
            }
            for event in span.events[:MAX_EVENTS]
        ]
        if len(span.events) > MAX_EVENTS:
            item["eventsLeftOut"] = len(span.events) - MAX_EVENTS
    if span.links:
        item["links"] = [
            {"traceId": link.trace_id.hex(), "spanId": link.span_id.hex()}
            for link in span.links[:3]
        ]
    return item


def _brief(entry: _Span, start: int) -> dict[str, Any]:
    span = entry.span
    return {
        "service": entry.service,
        "name": span.name,
        "kind": _KINDS.get(span.kind, "unspecified"),
        "startMs": _ms(span.start_time_unix_nano - start),
        "durationMs": _ms(span.end_time_unix_nano - span.start_time_unix_nano),
    }


def _attributes(values: Iterable[KeyValue], limit: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for kv in values:
        if len(found) == limit:
            break
        found[kv.key] = any_value_plain(kv.value)
    return found


def _start(entry: _Span) -> int:
    return entry.span.start_time_unix_nano


def _ms(ns: int) -> float:
    return round(ns / _MS, 3)

"""Picking spans out of a trace request, keeping its resource and scope grouping."""

from __future__ import annotations

from collections.abc import Callable, Collection

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.types import ExportTraceServiceRequest

__all__ = ["only_spans", "only_traces"]


def only_spans(
    request: ExportTraceServiceRequest, span_ids: Collection[bytes]
) -> ExportTraceServiceRequest:
    """A copy of ``request`` with the spans whose ids are in ``span_ids`` only; resources
    and scopes left without spans are left out."""
    return _picked(request, lambda span: span.span_id in span_ids)


def only_traces(
    request: ExportTraceServiceRequest, trace_ids: Collection[bytes]
) -> ExportTraceServiceRequest:
    """A copy of ``request`` with the spans of the traces in ``trace_ids`` only; resources
    and scopes left without spans are left out."""
    return _picked(request, lambda span: span.trace_id in trace_ids)


def _picked(
    request: ExportTraceServiceRequest, keep: Callable[[Span], bool]
) -> ExportTraceServiceRequest:
    kept = ExportTraceServiceRequest()
    for resource_spans in request.resource_spans:
        scopes = []
        for scope_spans in resource_spans.scope_spans:
            spans = [s for s in scope_spans.spans if keep(s)]
            if spans:
                scopes.append((scope_spans, spans))
        if not scopes:
            continue
        new_resource = kept.resource_spans.add()
        new_resource.resource.CopyFrom(resource_spans.resource)
        new_resource.schema_url = resource_spans.schema_url
        for scope_spans, spans in scopes:
            new_scope = new_resource.scope_spans.add()
            new_scope.scope.CopyFrom(scope_spans.scope)
            new_scope.schema_url = scope_spans.schema_url
            new_scope.spans.extend(spans)
    return kept

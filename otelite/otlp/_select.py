"""Picking spans out of a trace request, keeping its resource and scope grouping."""

from __future__ import annotations

from collections.abc import Collection

from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans

from otelite.types import ExportTraceServiceRequest

__all__ = ["by_trace", "only_spans"]


def only_spans(
    request: ExportTraceServiceRequest, span_ids: Collection[bytes]
) -> ExportTraceServiceRequest:
    """A copy of ``request`` with the spans whose ids are in ``span_ids`` only; resources
    and scopes left without spans are left out."""
    kept = ExportTraceServiceRequest()
    for resource_spans in request.resource_spans:
        scopes = []
        for scope_spans in resource_spans.scope_spans:
            spans = [s for s in scope_spans.spans if s.span_id in span_ids]
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


def by_trace(request: ExportTraceServiceRequest) -> dict[bytes, ExportTraceServiceRequest]:
    """``request`` cut into one request per trace id (in order of first appearance), each
    with its spans under copies of their resource and scope."""
    pieces: dict[bytes, ExportTraceServiceRequest] = {}
    for resource_spans in request.resource_spans:
        resources: dict[bytes, ResourceSpans] = {}
        for scope_spans in resource_spans.scope_spans:
            scopes: dict[bytes, ScopeSpans] = {}
            for span in scope_spans.spans:
                new_scope = scopes.get(span.trace_id)
                if new_scope is None:
                    new_resource = resources.get(span.trace_id)
                    if new_resource is None:
                        piece = pieces.setdefault(span.trace_id, ExportTraceServiceRequest())
                        new_resource = resources[span.trace_id] = piece.resource_spans.add()
                        new_resource.resource.CopyFrom(resource_spans.resource)
                        new_resource.schema_url = resource_spans.schema_url
                    new_scope = scopes[span.trace_id] = new_resource.scope_spans.add()
                    new_scope.scope.CopyFrom(scope_spans.scope)
                    new_scope.schema_url = scope_spans.schema_url
                new_scope.spans.append(span)
    return pieces

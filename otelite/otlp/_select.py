"""Picking spans out of a trace request, keeping its resource and scope grouping."""

from __future__ import annotations

from collections.abc import Collection

from otelite.types import ExportTraceServiceRequest

__all__ = ["only_spans"]


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

"""Cutting a trace request to some traces keeps each span under its resource and scope."""

from __future__ import annotations

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.otlp import only_traces
from otelite.types import ExportTraceServiceRequest


def shape(request: ExportTraceServiceRequest) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """(resource's service, [(scope name, [span names])]) for each resource."""
    return [
        (
            resource_spans.resource.attributes[0].value.string_value,
            [(s.scope.name, [span.name for span in s.spans]) for s in resource_spans.scope_spans],
        )
        for resource_spans in request.resource_spans
    ]


def test_each_trace_keeps_its_resources_and_scopes() -> None:
    request = ExportTraceServiceRequest()
    layout = {
        "a": {"s1": ["1a", "2a", "1b"], "s2": ["2b"]},
        "b": {"s3": ["1c"]},
    }
    for service, scopes in layout.items():
        resource_spans = request.resource_spans.add(schema_url="r")
        resource_spans.resource.attributes.append(
            KeyValue(key="service.name", value=AnyValue(string_value=service))
        )
        for scope, names in scopes.items():
            scope_spans = resource_spans.scope_spans.add(schema_url="s")
            scope_spans.scope.name = scope
            for name in names:
                trace_id = int(name[0]).to_bytes(16, "big")
                scope_spans.spans.append(Span(trace_id=trace_id, name=name))
    one, two = (n.to_bytes(16, "big") for n in (1, 2))
    first, second = only_traces(request, {one}), only_traces(request, {two})
    assert shape(first) == [("a", [("s1", ["1a", "1b"])]), ("b", [("s3", ["1c"])])]
    assert shape(second) == [("a", [("s1", ["2a"]), ("s2", ["2b"])])]
    assert shape(only_traces(request, {one, two})) == shape(request)
    assert list(only_traces(request, set()).resource_spans) == []
    assert {r.schema_url for p in (first, second) for r in p.resource_spans} == {"r"}
    scope_urls = {
        s.schema_url for p in (first, second) for r in p.resource_spans for s in r.scope_spans
    }
    assert scope_urls == {"s"}

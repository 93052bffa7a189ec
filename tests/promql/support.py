"""What the PromQL tests share: a store of each kind served over HTTP, and spans grouped
into one export request by their service."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from otelite.api import create_app
from otelite.storage import WriteBatch
from tests.api.served import Served
from tests.backends import store


@contextmanager
def serving(kind: str, *batches: WriteBatch) -> Iterator[httpx.Client]:
    """A client of the query API over a store of ``kind`` holding ``batches``, written
    one after another (as separate requests would be)."""
    with store(kind) as opened:
        for batch in batches:
            opened.write(batch)
        served = Served(create_app(opened))
        try:
            with httpx.Client(base_url=served.url, timeout=60) as client:
                yield client
        finally:
            served.close()


def by_service(spans: Mapping[str, Sequence[Span]]) -> ExportTraceServiceRequest:
    """One request with a resource (only ``service.name``) per service and its spans."""
    return ExportTraceServiceRequest(
        resource_spans=[
            ResourceSpans(
                resource=Resource(
                    attributes=[KeyValue(key="service.name", value=AnyValue(string_value=name))]
                ),
                scope_spans=[ScopeSpans(spans=list(found))],
            )
            for name, found in spans.items()
        ]
    )

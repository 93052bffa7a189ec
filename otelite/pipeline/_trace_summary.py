"""What the tail sampler keeps of a held trace: figures, not spans.

Spans are looked at once, as their request comes in, and only for what the configured
policies ask about: the trace's span count, its earliest start and latest end (latency),
the status codes seen (status_code), its root's service (rate_limiting) and which
attribute policies some span or resource satisfies (string and numeric attributes:
"some attribute of some span" is a question each span can answer alone). A held trace
is then a few numbers whatever its size, deciding it does not go over its spans again,
and the request they came in is kept as bytes only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from otelite.types import ExportTraceServiceRequest

__all__ = ["HeldTrace", "TraceSummarizer"]

_SERVICE_NAME = "service.name"
_STATUS_BITS = {0: 1, 1: 2, 2: 4}
"""A bit per status code a policy can name (UNSET, OK, ERROR); other codes match none."""

Observes = Callable[[Sequence[KeyValue]], bool]
"""Whether some of these attributes satisfy an attribute policy."""


@dataclass(slots=True)
class HeldTrace:
    """What the policies know of a trace held so far, gathered from its spans as they came."""

    tenant: str
    trace_id: bytes
    span_count: int = 0
    start_ns: int = 0
    """The earliest start of its spans (when a policy asks for latency)."""
    end_ns: int = 0
    """The latest end of its spans (likewise)."""
    statuses: int = 0
    """A bit per status code some span has: 1 UNSET, 2 OK, 4 ERROR."""
    root_service: str | None = None
    """The root span's service, once the root has come (when a policy asks for it)."""
    first_service: str = ""
    """The service of the first span that came (likewise)."""
    found: set[object] = field(default_factory=set)
    """The attribute policies some span, or its resource, satisfies."""

    def duration_ns(self) -> int:
        """From the earliest start to the latest end of its spans."""
        return max(0, self.end_ns - self.start_ns) if self.span_count else 0

    def service(self) -> str:
        """The root span's service (the first span's when the root has not arrived)."""
        return self.first_service if self.root_service is None else self.root_service

    def merge(self, later: HeldTrace) -> None:
        """Take in the figures of spans of this trace that came after these."""
        if not self.span_count:
            self.start_ns, self.first_service = later.start_ns, later.first_service
        elif later.span_count:
            self.start_ns = min(self.start_ns, later.start_ns)
        self.span_count += later.span_count
        self.end_ns = max(self.end_ns, later.end_ns)
        self.statuses |= later.statuses
        if self.root_service is None:
            self.root_service = later.root_service
        self.found |= later.found


class TraceSummarizer:
    """Sums up a request's spans by trace, gathering only what the policies ask about.

    ``attributes`` pairs each attribute policy (the key ``found`` holds) with its test.
    """

    def __init__(
        self,
        *,
        times: bool,
        statuses: bool,
        services: bool,
        attributes: Sequence[tuple[object, Observes]] = (),
    ) -> None:
        self._times = times
        self._statuses = statuses
        self._services = services
        self._attributes = tuple(attributes)

    def summarize(self, tenant: str, request: ExportTraceServiceRequest) -> dict[bytes, HeldTrace]:
        """Each trace of ``request`` (in order of first appearance) and its figures."""
        traces: dict[bytes, HeldTrace] = {}
        times, statuses, services = self._times, self._statuses, self._services
        for resource_spans in request.resource_spans:
            resource = resource_spans.resource.attributes
            service = _service(resource) if services else ""
            # A resource that satisfies a policy does so for every span under it.
            by_resource = {policy for policy, observes in self._attributes if observes(resource)}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    trace_id = span.trace_id
                    trace = traces.get(trace_id)
                    if trace is None:
                        trace = traces[trace_id] = HeldTrace(tenant, trace_id)
                        trace.first_service = service
                        if times:
                            trace.start_ns = span.start_time_unix_nano
                    trace.span_count += 1
                    if times:
                        start, end = span.start_time_unix_nano, span.end_time_unix_nano
                        if start < trace.start_ns:
                            trace.start_ns = start
                        if end > trace.end_ns:
                            trace.end_ns = end
                    if statuses:
                        trace.statuses |= _STATUS_BITS.get(span.status.code, 0)
                    if services and trace.root_service is None and not span.parent_span_id:
                        trace.root_service = service
                    if self._attributes:
                        self._observe(trace, by_resource, span.attributes)
        return traces

    def _observe(
        self, trace: HeldTrace, by_resource: set[object], attributes: Sequence[KeyValue]
    ) -> None:
        trace.found |= by_resource
        for policy, observes in self._attributes:
            if policy not in trace.found and observes(attributes):
                trace.found.add(policy)


def _service(attributes: Sequence[KeyValue]) -> str:
    for attribute in attributes:
        if attribute.key == _SERVICE_NAME:
            value = attribute.value
            return value.string_value if value.WhichOneof("value") == "string_value" else ""
    return ""

"""The HTTP query API (port 3200): what the web UI and the CLI read.

Every endpoint answers JSON; errors are ``{"error": "..."}`` with 400 for a bad parameter
(the message names it and the accepted form), 404 for an unknown route or trace, 503 when
storage cannot answer. Times (``start``, ``end``) take RFC 3339, Unix seconds, ms or ns,
``now`` and ``now-1h``; a missing range means the last hour, except for ``/api/export``,
where it means everything. ``attr=key=value`` (repeatable) matches a record's own attribute,
else its resource's, by string form (``attr=http.status_code=200`` matches the int 200).

=====================================  ==================================================
``GET /api/traces/{id}``               Tempo v1: ``{"batches": [...]}``, OTLP/JSON; or
                                       protobuf with ``Accept: application/protobuf``
``GET /api/v2/traces/{id}``            Tempo v2: ``{"trace": {"resourceSpans": [...]}}``
``GET /api/search/traces``             ``service name attr minDuration maxDuration status
                                       start end limit``; a trace matches when one span
                                       meets every condition; newest first
``GET /api/services``                  span and error counts per service
``GET /api/services/{s}/operations``   counts and p50/p95/p99 (ms) per span name and kind
``GET /api/search/logs``               ``service severity text traceId attr start end
                                       limit``; newest first
``GET /api/metrics``                   names, types, units, series counts (``service``)
``GET /api/metrics/{name}/series``     points per series (``attr service start end``)
``GET /api/export``                    ``signal start end``: NDJSON, one OTLP/JSON
                                       export request per line
``GET /api/count``                     ``signal start end``: spans, log records or
                                       metric data points (every type) stored in
                                       ``[start, end)``, as rows (a span sent twice
                                       counts twice, as in ``/api/services``)
``GET /api/deployments``              ``service start end settle window``: changes of
                                       ``service.version`` per service, with RED before
                                       and after each (``otelite.api._deployments``)
``GET /api/compare/traces``           ``a b``: two traces aligned by (service, operation)
                                       path (``_compare``)
``GET /api/compare``                   ``selection baseline start end``: attribute values
                                       ranked by their share in two groups of spans
``GET /api/traces/{id}/critical-path``  what the trace's duration waited on: sections,
                                       each span's time and share (``_critical_path``)
``GET /api/critical-path``             ``q baseline start end baselineStart baselineEnd
                                       limit``: critical-path time per operation of
                                       the traces a TraceQL query matches, against a
                                       baseline
``GET /api/service-graph``             ``start end service``: the service map, nodes
                                       (services, databases, peers) and edges with
                                       rate, error rate, p50/p95/p99 (ms); at most 24 h
``GET /api/ui/info``                   for the web UI: OTLP endpoints, version, storage
                                       mode (memory, or the data directory's name)
``GET /api/ui/services``               for the web UI: RED figures per service, in total
                                       and per time bucket (``buckets``)
``GET /api/ui/attributes``             for the web UI: attribute keys and values seen in
                                       recent spans or logs (``signal``)
``GET /metrics``                       otelite's own metrics, Prometheus text format
                                       (every tenant's; README.md lists the series)
``GET /healthz``, ``GET /readyz``      liveness; readiness (503 with the reason)
``GET /ready``                         readiness as Loki answers it, in plain text
``POST /loki/api/v1/push``             Loki's push API (``otelite.receivers.LokiPush``,
                                       wired in by the server): logs in, not out
=====================================  ==================================================

Grafana Tempo's API (``_tempo``: TraceQL search, tags and tag values, TraceQL metrics,
echo and build info), Prometheus's (``_prometheus``, under ``/api/v1``), Loki's
(``_loki``, under ``/loki/api/v1``: LogQL log queries, labels, label values, series;
``_loki_index``: index stats and volumes; ``_loki_detected``: detected labels and fields,
patterns; ``_loki_tail``: the live tail, a WebSocket) and
Jaeger's query APIs (``_jaeger``, under ``/jaeger/api``, v1 and v3) answer on the same
port, in those projects' shapes, units and error bodies. SLOs (``_slos``: OpenSLO
documents under ``/api/slos``, their status, and their burn-rate rules and alerts on
Prometheus's ``/api/v1/rules`` and ``/api/v1/alerts``) answer there too.

Handlers run storage calls in worker threads; the event loop never waits on a query.
In multi-tenant mode each request reads only the storage of the tenant its
``X-Scope-OrgID`` header names (400 when it is missing or invalid); ``/api/ui/info``
tells the web UI whether the server is multi-tenant.
"""

from __future__ import annotations

from otelite.api._alert_receivers import AlertReceiverMetrics
from otelite.api._app import Readiness, create_app
from otelite.api._forwarding import ForwardingMetrics
from otelite.api._redaction_metrics import RedactionMetrics
from otelite.api._sampling_metrics import TailSamplingMetrics
from otelite.api._self_metrics import PipelineReports, SelfMetrics
from otelite.api._storage import StoragePerTenant
from otelite.api._ui_data import ServerInfo, ServerInfoSource

__all__ = [
    "AlertReceiverMetrics",
    "ForwardingMetrics",
    "PipelineReports",
    "Readiness",
    "RedactionMetrics",
    "SelfMetrics",
    "ServerInfo",
    "ServerInfoSource",
    "StoragePerTenant",
    "TailSamplingMetrics",
    "create_app",
]

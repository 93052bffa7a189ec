"""Network edges: OTLP over gRPC and over HTTP, each handing requests to the next consumer.

Both decode, validate (``otelite.otlp.validate``: invalid records are dropped and reported
as a partial success), wait for the consumer to make the rest durable, then answer.
``LokiPush`` takes Loki's push API (``POST /loki/api/v1/push``, JSON or snappy protobuf)
into the same path as OTLP logs, on the OTLP/HTTP port and, wired by the server, on the
query port where Loki clients look for it. ``UvicornServer`` runs any ASGI app (the
receivers' and the query API's) in the caller's event loop. ``SelfTelemetry`` receives
otelite's own traces and metrics, in process.
"""

from __future__ import annotations

from otelite.receivers._grpc import GrpcReceiver
from otelite.receivers._http import HttpReceiver
from otelite.receivers._loki_push import LOKI_PUSH_PATH, LokiPush
from otelite.receivers._self_telemetry import SELF_SERVICE, SelfTelemetry
from otelite.receivers._uvicorn import UvicornServer

__all__ = [
    "LOKI_PUSH_PATH",
    "SELF_SERVICE",
    "GrpcReceiver",
    "HttpReceiver",
    "LokiPush",
    "SelfTelemetry",
    "UvicornServer",
]

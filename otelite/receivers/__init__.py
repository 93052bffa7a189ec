"""Network edges: OTLP over gRPC and over HTTP, each handing requests to the next consumer.

Both decode, validate (``otelite.otlp.validate``: invalid records are dropped and reported
as a partial success), wait for the consumer to make the rest durable, then answer.
``UvicornServer`` runs any ASGI app (the receivers' and the query API's) in the caller's
event loop. ``SelfTelemetry`` receives otelite's own traces and metrics, in process.
"""

from __future__ import annotations

from otelite.receivers._grpc import GrpcReceiver
from otelite.receivers._http import HttpReceiver
from otelite.receivers._self_telemetry import SELF_SERVICE, SelfTelemetry
from otelite.receivers._uvicorn import UvicornServer

__all__ = ["SELF_SERVICE", "GrpcReceiver", "HttpReceiver", "SelfTelemetry", "UvicornServer"]

"""Span and log templates that follow the OpenTelemetry semantic conventions.

Every attribute name the shop writes is spelled here, once: HTTP server and client, RPC
(gRPC), database (PostgreSQL, Redis) and messaging (Kafka) spans use the stable
convention names (``http.request.method``, ``db.system.name``, ``messaging.operation.type``,
...). Attributes the conventions do not cover use the ``shop.`` prefix.

A template holds the serialised fields that never change for one operation (name, kind,
static attributes); the flows add ids, times and a few pre-encoded values per span.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.demo import _wire
from otelite.demo._topology import Service

__all__ = [
    "CLIENT",
    "CONSUMER",
    "INTERNAL",
    "PRODUCER",
    "SERVER",
    "Template",
    "db_client",
    "error_status",
    "exception_event",
    "http_client",
    "http_server",
    "http_status",
    "log_template",
    "messaging",
    "redis_client",
    "rpc_client",
    "rpc_server",
    "rpc_status",
    "span_attribute",
    "span_template",
]

INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER = 1, 2, 3, 4, 5

AttributeValue = str | int | float | bool

POSTGRES = ("postgres.shop.svc.cluster.local", 5432)
REDIS = ("redis.shop.svc.cluster.local", 6379)
KAFKA = ("kafka.shop.svc.cluster.local", 9092)
_GRPC_CODES = {"OK": 0, "INVALID_ARGUMENT": 3, "INTERNAL": 13, "UNAVAILABLE": 14}


@dataclass(frozen=True, slots=True)
class Template:
    """One operation's span, serialised without ids and times."""

    name: str
    kind: int
    static: bytes


def span_template(name: str, kind: int, attributes: Mapping[str, AttributeValue]) -> Template:
    """A template from a name, a span kind and the attributes every such span carries."""
    span = Span(
        name=name,
        kind=kind,  # type: ignore[arg-type]
        attributes=[_wire.key_value(k, v) for k, v in attributes.items()],
    )
    return Template(name, kind, span.SerializeToString())


def http_server(service: Service, method: str, route: str) -> Template:
    """An HTTP server span of ``service`` for ``route``; ``url.path`` and the status code
    are added per span."""
    return span_template(
        f"{method} {route}",
        SERVER,
        {
            "http.request.method": method,
            "http.route": route,
            "url.scheme": "https" if service.name == "api-gateway" else "http",
            "server.address": _host(service),
            "server.port": service.port,
            "network.protocol.version": "1.1",
            "client.address": "10.42.0.17",
            "network.peer.address": "10.42.0.17",
            "network.peer.port": 51544,
            "user_agent.original": "shop-web/2.14.0",
        },
    )


def http_client(method: str, url_template: str, host: str, port: int) -> Template:
    """An HTTP client span; ``url.full`` and the status code are added per span."""
    return span_template(
        f"{method} {url_template}",
        CLIENT,
        {
            "http.request.method": method,
            "url.template": url_template,
            "server.address": host,
            "server.port": port,
            "network.protocol.version": "1.1",
            "network.peer.address": "10.43.12.9",
            "network.peer.port": port,
        },
    )


def rpc_client(callee: Service, rpc_service: str, method: str) -> Template:
    """A gRPC client span calling ``rpc_service/method`` on ``callee``."""
    return span_template(
        f"{rpc_service}/{method}",
        CLIENT,
        {
            **_rpc(rpc_service, method),
            "server.address": _host(callee),
            "server.port": callee.port,
            "network.peer.address": "10.43.20.5",
        },
    )


def rpc_server(service: Service, rpc_service: str, method: str) -> Template:
    """The gRPC server span of ``service`` handling ``rpc_service/method``."""
    return span_template(
        f"{rpc_service}/{method}",
        SERVER,
        {
            **_rpc(rpc_service, method),
            "server.address": _host(service),
            "server.port": service.port,
            "client.address": "10.42.1.23",
        },
    )


def _rpc(rpc_service: str, method: str) -> dict[str, AttributeValue]:
    return {
        "rpc.system": "grpc",
        "rpc.service": rpc_service,
        "rpc.method": method,
        "network.protocol.name": "http",
        "network.protocol.version": "2",
        "network.transport": "tcp",
    }


def db_client(operation: str, table: str, query: str) -> Template:
    """A PostgreSQL client span running ``query`` (parameterised: no values in the text)."""
    host, port = POSTGRES
    return span_template(
        f"{operation} {table}",
        CLIENT,
        {
            "db.system.name": "postgresql",
            "db.namespace": "shop",
            "db.collection.name": table,
            "db.operation.name": operation,
            "db.query.text": query,
            "db.query.summary": f"{operation} {table}",
            "server.address": host,
            "server.port": port,
            "network.peer.address": "10.43.7.31",
            "network.peer.port": port,
        },
    )


def redis_client(operation: str, query: str) -> Template:
    """A Redis client span (the catalog's cache); ``shop.cache.hit`` is added per span."""
    host, port = REDIS
    return span_template(
        operation,
        CLIENT,
        {
            "db.system.name": "redis",
            "db.namespace": "0",
            "db.operation.name": operation,
            "db.query.text": query,
            "server.address": host,
            "server.port": port,
            "network.peer.address": "10.43.5.12",
            "network.peer.port": port,
        },
    )


def messaging(kind: int, operation: str, destination: str, group: str | None) -> Template:
    """A Kafka producer (``send``) or consumer (``process``) span on ``destination``."""
    host, port = KAFKA
    attributes: dict[str, AttributeValue] = {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": destination,
        "server.address": host,
        "server.port": port,
        "network.peer.address": "10.43.9.4",
    }
    if group is not None:
        attributes["messaging.consumer.group.name"] = group
    return span_template(f"{operation} {destination}", kind, attributes)


def log_template(
    severity: int, severity_text: str, body: str | None, attributes: Mapping[str, AttributeValue]
) -> bytes:
    """A log record without time and trace context; ``body=None`` leaves it to each record."""
    record = LogRecord(
        severity_number=severity,  # type: ignore[arg-type]
        severity_text=severity_text,
        attributes=[_wire.key_value(k, v) for k, v in attributes.items()],
    )
    if body is not None:
        record.body.string_value = body
    return record.SerializeToString()


@functools.cache
def span_attribute(key: str, value: AttributeValue) -> bytes:
    """A span attribute field, encoded once per distinct value."""
    return _wire.attribute(_wire.SPAN_ATTRIBUTE, key, value)


def http_status(code: int) -> bytes:
    """``http.response.status_code`` (plus ``error.type`` for errors, as the spec asks)."""
    encoded = span_attribute("http.response.status_code", code)
    return encoded + span_attribute("error.type", str(code)) if code >= 500 else encoded


def rpc_status(code: str) -> bytes:
    """``rpc.grpc.status_code`` for a gRPC status name."""
    return span_attribute("rpc.grpc.status_code", _GRPC_CODES[code])


@functools.cache
def error_status(message: str) -> bytes:
    """A span status field: ERROR with ``message``."""
    status = Status(code=Status.STATUS_CODE_ERROR, message=message)
    return _wire.field(_wire.SPAN_STATUS, status.SerializeToString())


@functools.cache
def exception_event(exception_type: str, message: str, stacktrace: str) -> bytes:
    """The time-less part of an ``exception`` span event."""
    return (
        _wire.field(0x12, b"exception")
        + _wire.attribute(0x1A, "exception.type", exception_type)
        + _wire.attribute(0x1A, "exception.message", message)
        + _wire.attribute(0x1A, "exception.stacktrace", stacktrace)
    )


def _host(service: Service) -> str:
    return f"{service.name}.shop.svc.cluster.local"

"""A small shop's telemetry, sent to otelite over OTLP/HTTP by the real OpenTelemetry SDK."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

HOSTILE = "<img src=x onerror=alert(1)>"
"""A span name, attribute key and value, and log body that must show as text."""

logging.getLogger("opentelemetry").setLevel(logging.ERROR)


@dataclass
class Shop:
    """The SDK providers of three services, exporting to one otelite."""

    otlp_http: str
    tracers: dict[str, TracerProvider] = field(default_factory=dict)
    loggers: dict[str, LoggerProvider] = field(default_factory=dict)
    meters: dict[str, MeterProvider] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for service in ("frontend", "cart", "payments"):
            resource = Resource.create(
                {"service.name": service, "service.version": "1.4.2", "host.cpus": 2}
            )
            tracer = TracerProvider(resource=resource)
            tracer.add_span_processor(
                BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{self.otlp_http}/v1/traces"))
            )
            self.tracers[service] = tracer
            logger = LoggerProvider(resource=resource)
            logger.add_log_record_processor(
                BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"{self.otlp_http}/v1/logs"))
            )
            self.loggers[service] = logger
            reader = PeriodicExportingMetricReader(
                OTLPMetricExporter(endpoint=f"{self.otlp_http}/v1/metrics"),
                export_interval_millis=3_600_000,  # exported on flush only
            )
            self.meters[service] = MeterProvider(resource=resource, metric_readers=[reader])
        meter = self.meters["frontend"].get_meter("shop.http", "1.0")
        self.requests = meter.create_counter(
            "http.server.requests", unit="{request}", description="requests served"
        )
        self.latency = meter.create_histogram(
            "http.server.request.duration", unit="ms", description="time to answer a request"
        )
        self.queue = meter.create_gauge("cart.queue.depth", description="carts waiting")

    def tracer(self, service: str) -> trace.Tracer:
        return self.tracers[service].get_tracer("shop." + service, "1.4.2")

    def checkout(self, *, fail: bool = False, hostile: bool = False, items: int = 2) -> str:
        """One checkout across the three services; returns its trace id (hex)."""
        frontend, cart, payments = (self.tracer(s) for s in ("frontend", "cart", "payments"))
        log_front = self.loggers["frontend"].get_logger("shop.frontend")
        log_pay = self.loggers["payments"].get_logger("shop.payments")
        name = HOSTILE if hostile else "POST /checkout"
        started = time.perf_counter()
        with frontend.start_as_current_span(name, kind=SpanKind.SERVER) as root:
            root.set_attribute("http.request.method", "POST")
            root.set_attribute("http.response.status_code", 500 if fail else 200)
            root.set_attribute("cart.total", 99.5)
            root.set_attribute("cart.items", ["apple", "pear"][:items])
            root.set_attribute("user.vip", True)
            if hostile:
                root.set_attribute(HOSTILE, HOSTILE)
            log_front.emit(
                severity_number=SeverityNumber.INFO,
                severity_text="INFO",
                body=f"checkout started for {items} items",
                attributes={"cart.items": items},
            )
            with cart.start_as_current_span("cart.load", kind=SpanKind.SERVER) as load:
                load.add_event("cache miss", {"cache.key": "cart:42"})
                with cart.start_as_current_span("SELECT carts", kind=SpanKind.CLIENT) as query:
                    query.set_attribute("db.system", "duckdb")
                    query.set_attribute("db.rows", 3)
                    time.sleep(0.002)
            link = load.get_span_context()
            with payments.start_as_current_span(
                "payments.charge", kind=SpanKind.SERVER, links=[Link(link, {"link.why": "cart"})]
            ) as charge:
                charge.set_attribute("payment.amount", 99.5)
                time.sleep(0.003 + random.random() * 0.01)
                if fail:
                    charge.set_status(Status(StatusCode.ERROR, "card declined"))
                    charge.record_exception(ValueError("card declined"))
                    log_pay.emit(
                        severity_number=SeverityNumber.ERROR,
                        severity_text="ERROR",
                        body={"message": "card declined", "attempt": 2, "retry": False},
                        attributes={"payment.provider": "acme"},
                    )
            trace_id = f"{root.get_span_context().trace_id:032x}"
        elapsed_ms = (time.perf_counter() - started) * 1000
        attrs = {"http.route": "/checkout", "http.response.status_code": 500 if fail else 200}
        self.requests.add(1, attrs)
        self.latency.record(elapsed_ms, attrs)
        self.queue.set(items, {"region": "eu"})
        return trace_id

    def flush(self) -> None:
        for provider in (*self.tracers.values(), *self.loggers.values(), *self.meters.values()):
            provider.force_flush()

    def shutdown(self) -> None:
        for provider in (*self.tracers.values(), *self.loggers.values(), *self.meters.values()):
            provider.shutdown()

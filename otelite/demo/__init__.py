"""A synthetic microservice shop that sends realistic OTLP telemetry of itself.

Web and mobile clients call an API gateway, which calls a backend-for-frontend, which
calls order, payment, inventory, shipping and catalog, backed by PostgreSQL, Redis and
Kafka. Orders run as a saga with compensations; catalog reads are cache-aside; the payment
provider is flaky and called through retries and a circuit breaker; the gateway's bulkhead
rejects under load; Kafka producer and consumer spans are linked. Spans, logs (correlated
by trace and span id) and metrics follow the OpenTelemetry semantic conventions.

``Shop`` produces serialised requests (fast: records are stamped from templates);
``generate_batches`` yields parsed ones; ``Sender`` delivers them over OTLP/HTTP or gRPC;
``otelite demo`` runs it all from the command line.
"""

from __future__ import annotations

from otelite.demo._scenarios import SCENARIOS, Deploy, Scenario
from otelite.demo._send import Sender, SendError, SendStats
from otelite.demo._shop import Batch, Shop, generate_batches
from otelite.demo._topology import SERVICES, Service

__all__ = [
    "SCENARIOS",
    "SERVICES",
    "Batch",
    "Deploy",
    "Scenario",
    "SendError",
    "SendStats",
    "Sender",
    "Service",
    "Shop",
    "generate_batches",
]

"""The shop's services and the instances (pods, browsers, phones) that report as them.

::

    web-frontend ─┐                        ┌─ order ──── inventory, payment ── payment provider
                  ├─ api-gateway ── bff ───┤            shipping ◄── kafka "orders" (consumer)
    mobile-app ───┘                        ├─ catalog ── redis (cache-aside), postgres
                                           └─ inventory

postgres, redis, kafka and the external payment provider do not report telemetry, as in
most real systems: they appear as the peers (``server.address``) of client spans.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from otelite.demo import _wire

__all__ = ["ENVIRONMENT", "SERVICES", "Instance", "Service", "build_instances"]

ENVIRONMENT = "production"
NAMESPACE = "shop"


@dataclass(frozen=True, slots=True)
class Service:
    """One service of the shop; ``replicas`` instances report as it."""

    name: str
    version: str
    language: str
    replicas: int
    port: int


SERVICES: tuple[Service, ...] = (
    Service("web-frontend", "2.14.0", "webjs", 1, 443),
    Service("mobile-app", "5.2.1", "swift", 2, 443),
    Service("api-gateway", "1.27.4", "go", 2, 8080),
    Service("bff", "3.4.0", "nodejs", 2, 3000),
    Service("order", "4.11.2", "java", 2, 8080),
    Service("payment", "2.6.0", "java", 2, 50051),
    Service("inventory", "1.15.7", "go", 2, 50051),
    Service("shipping", "0.9.3", "python", 2, 50051),
    Service("catalog", "1.8.3", "python", 3, 50051),
)
"""Every service, clients first."""


@dataclass(frozen=True, slots=True)
class Instance:
    """One process reporting as ``service`` at ``version``, with its OTLP envelope bytes.

    ``envelope`` is the serialised ``resource`` field of a ResourceSpans/ResourceLogs
    message; ``scope`` the serialised ``scope`` field of its ScopeSpans/ScopeLogs.
    """

    key: int
    service: str
    version: str
    resource: Resource
    scope: InstrumentationScope
    envelope: bytes
    scope_field: bytes


def build_instances(
    rng: random.Random, deploys: dict[str, str]
) -> dict[tuple[str, str], tuple[Instance, ...]]:
    """Instances by (service, version): each service's own version, plus the versions in
    ``deploys`` (service → new version), which run on freshly named pods."""
    found: dict[tuple[str, str], tuple[Instance, ...]] = {}
    node_count = 4
    for service in SERVICES:
        versions = [service.version]
        if service.name in deploys:
            versions.append(deploys[service.name])
        for version in versions:
            replica_set = f"{rng.getrandbits(40):010x}"[:10]
            instances = []
            for replica in range(service.replicas):
                attributes = _resource_attributes(service, version, replica, replica_set, rng)
                attributes["host.name"] = attributes.get(
                    "host.name", f"node-{rng.randrange(node_count) + 1}"
                )
                resource = Resource(
                    attributes=[_wire.key_value(k, v) for k, v in attributes.items()]
                )
                scope = InstrumentationScope(name=f"{NAMESPACE}.{service.name}", version=version)
                instances.append(
                    Instance(
                        key=sum(len(group) for group in found.values()) + replica,
                        service=service.name,
                        version=version,
                        resource=resource,
                        scope=scope,
                        envelope=_wire.field(0x0A, resource.SerializeToString()),
                        scope_field=_wire.field(0x0A, scope.SerializeToString()),
                    )
                )
            found[service.name, version] = tuple(instances)
    return found


def _resource_attributes(
    service: Service, version: str, replica: int, replica_set: str, rng: random.Random
) -> dict[str, str | int | bool]:
    common: dict[str, str | int | bool] = {
        "service.name": service.name,
        "service.namespace": NAMESPACE,
        "service.version": version,
        "deployment.environment.name": ENVIRONMENT,
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": service.language,
        "telemetry.sdk.version": "1.45.0",
    }
    if service.name == "web-frontend":
        return common | {"browser.platform": "macOS", "browser.mobile": False}
    if service.name == "mobile-app":
        os_name, os_version, model = (
            ("iOS", "18.3", "iPhone16,2") if replica == 0 else ("Android", "15", "Pixel 8")
        )
        if os_name == "Android":
            common["telemetry.sdk.language"] = "java"
        return common | {
            "os.name": os_name,
            "os.version": os_version,
            "device.model.identifier": model,
        }
    pod = f"{service.name}-{replica_set}-{rng.getrandbits(25):05x}"[: len(service.name) + 17]
    return common | {
        "service.instance.id": f"{rng.getrandbits(128):032x}",
        "k8s.namespace.name": NAMESPACE,
        "k8s.deployment.name": service.name,
        "k8s.pod.name": pod,
        "container.name": service.name,
    }

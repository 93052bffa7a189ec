"""The demo shop's service map, on both backends: its services, the calls of its
topology, and the systems that report nothing (PostgreSQL, Redis, the payment provider)
as virtual nodes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.analysis import NodeKind, ServiceMap
from otelite.demo import SERVICES, Shop
from otelite.query import TimeRange
from otelite.storage import Storage, WriteBatch
from otelite.types import Signal
from tests.backends import BACKENDS, store
from tests.demo.support import START, stepping_clock, take

from .test_service_map import service_map

POSTGRES = "postgres.shop.svc.cluster.local"
REDIS = "redis.shop.svc.cluster.local"
PROVIDER = "api.payments.example.com"


@pytest.fixture(scope="module", params=BACKENDS)
def shop_map(request: pytest.FixtureRequest) -> Iterator[ServiceMap]:
    shop = Shop(clock=stepping_clock(), signals=(Signal.TRACES,), error_rate=0.05)
    opened: Storage
    with store(request.param) as opened:
        # The requests of the traces still under way too: no trace is cut short.
        for batch in [*take(shop.batches(Signal.TRACES), 8), *shop.flush()]:
            if batch.signal is Signal.TRACES:
                opened.write(WriteBatch(traces=[batch.body]))
        yield service_map(opened, TimeRange(START - 600 * 10**9, START + 3600 * 10**9))


def test_every_service_is_a_node(shop_map: ServiceMap) -> None:
    kinds = {node.name: node.kind for node in shop_map.nodes}
    assert {s.name for s in SERVICES} <= {n for n, k in kinds.items() if k is NodeKind.SERVICE}
    for node in shop_map.nodes:
        if node.kind is NodeKind.SERVICE:
            assert node.figures.requests > 0, node.name


def test_what_reports_nothing_is_a_virtual_node(shop_map: ServiceMap) -> None:
    kinds = {node.name: node.kind for node in shop_map.nodes}
    assert kinds[POSTGRES] is NodeKind.DATABASE
    assert kinds[REDIS] is NodeKind.DATABASE
    assert kinds[PROVIDER] is NodeKind.PEER
    # Every other node is a service: calls between services all pair up.
    # Kafka is no node: its producers and consumers pair up through their links.
    virtual = {n for n, k in kinds.items() if k is not NodeKind.SERVICE}
    assert virtual == {POSTGRES, REDIS, PROVIDER}


def test_the_topologys_calls_are_edges(shop_map: ServiceMap) -> None:
    edges = {(e.client, e.server, e.connection): e for e in shop_map.edges}
    for expected in [
        ("web-frontend", "api-gateway", ""),
        ("mobile-app", "api-gateway", ""),
        ("api-gateway", "bff", ""),
        ("bff", "order", ""),
        ("order", "payment", ""),
        # Orders go to shipping through Kafka: a consumer span in a trace of its own,
        # linked to the producer span.
        ("order", "shipping", "messaging_system"),
        ("catalog", POSTGRES, "database"),
        ("catalog", REDIS, "database"),
        ("payment", PROVIDER, "virtual_node"),
    ]:
        assert expected in edges, expected
        figures = edges[expected].figures
        assert figures.requests > 0 and figures.p50_ms is not None
        assert figures.p50_ms <= (figures.p95_ms or 0) <= (figures.p99_ms or 0)
    # Callers left of callees.
    place = {node.name: node.place.layer for node in shop_map.nodes}
    assert place["web-frontend"] < place["api-gateway"] < place["bff"] < place["order"]
    assert place["payment"] < place[PROVIDER]

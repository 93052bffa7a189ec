"""The service map over hand-built traces, on both backends, against the figures worked
out in ``map_traces`` from the spans themselves (a third of them sent twice)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from otelite.analysis import (
    MAP_MAX_RANGE_NS,
    Figures,
    NodeKind,
    ServiceMap,
    build_service_map,
    service_map_plans,
)
from otelite.errors import InvalidRequest
from otelite.query import Plan, TimeRange, compile_plan
from otelite.storage import Storage, WriteBatch
from tests.backends import BACKENDS, store

from .map_traces import (
    END_NS,
    SECONDS,
    START_NS,
    Expected,
    expected_edges,
    expected_nodes,
    export_request,
    make_spans,
)

SPANS = make_spans()
COPIES = SPANS[::3]
RANGE = TimeRange(START_NS, END_NS)


@pytest.fixture(scope="module", params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[export_request(SPANS)]))
        opened.write(WriteBatch(traces=[export_request(COPIES)]))  # sent again
        yield opened


def run(storage: Storage, plan: Plan) -> list[dict[str, Any]]:
    statement = compile_plan(plan, storage.dialect)
    return storage.query(statement.sql, statement.params, types=statement.types).to_pylist()


def service_map(storage: Storage, time: TimeRange = RANGE, **options: Any) -> ServiceMap:
    edges, red = (run(storage, plan) for plan in service_map_plans(time))
    return build_service_map(time, edges, red, **options)


def assert_figures(found: Figures, expected: Expected) -> None:
    assert (found.requests, found.errors) == (expected.requests, expected.errors)
    assert found.rate_per_second == pytest.approx(expected.requests / SECONDS)
    share = expected.errors / expected.requests if expected.requests else 0.0
    assert found.error_rate == pytest.approx(share)
    for got, want in (
        (found.p50_ms, expected.p50_ms),
        (found.p95_ms, expected.p95_ms),
        (found.p99_ms, expected.p99_ms),
    ):
        assert got == (None if want is None else pytest.approx(want, rel=1e-9))


def test_edges_carry_their_requests_figures(storage: Storage) -> None:
    found = service_map(storage)
    expected = expected_edges(SPANS)
    assert {(e.client, e.server, e.connection) for e in found.edges} == set(expected)
    # The shop's calls, its database, its payment provider and its queue are all there.
    assert {
        ("user", "frontend", "virtual_node"),
        ("batch", "frontend", ""),
        ("frontend", "checkout", ""),
        ("checkout", "payment", ""),
        ("checkout", "pg.local", "database"),
        ("payment", "api.pay.example", "virtual_node"),
        ("checkout", "shipping", "messaging_system"),
        ("checkout", "billing", "messaging_system"),
    } == set(expected)
    for edge in found.edges:
        requests = expected[edge.client, edge.server, edge.connection]
        assert_figures(edge.figures, Expected.of(requests))
    assert not found.truncated


def test_nodes_are_services_databases_peers_and_callers(storage: Storage) -> None:
    found = service_map(storage)
    expected = expected_nodes(SPANS, COPIES)
    assert {n.name: n.kind.value for n in found.nodes} == {
        name: kind for name, (kind, _) in expected.items()
    }
    kinds = {n.name: n.kind for n in found.nodes}
    assert kinds["pg.local"] is NodeKind.DATABASE
    assert kinds["api.pay.example"] is NodeKind.PEER
    assert kinds["inventory"] is NodeKind.SERVICE  # requests, though no edge reaches it
    for node in found.nodes:
        assert_figures(node.figures, expected[node.name][1])


def test_a_service_focus_keeps_its_edges_and_their_nodes(storage: Storage) -> None:
    found = service_map(storage, service="checkout")
    assert {(e.client, e.server) for e in found.edges} == {
        ("frontend", "checkout"),
        ("checkout", "payment"),
        ("checkout", "pg.local"),
        ("checkout", "shipping"),
        ("checkout", "billing"),
    }
    assert {n.name for n in found.nodes} == {
        "billing",
        "frontend",
        "checkout",
        "payment",
        "pg.local",
        "shipping",
    }


def test_what_is_cut_is_said(storage: Storage) -> None:
    found = service_map(storage, max_edges=2, max_nodes=3)
    assert found.truncated
    assert len(found.nodes) <= 3 and len(found.edges) <= 2
    names = {n.name for n in found.nodes}
    assert all(e.client in names and e.server in names for e in found.edges)
    # The busiest are kept: every trace's checkout is among them.
    assert "checkout" in names


def test_a_range_outside_the_data_is_empty(storage: Storage) -> None:
    found = service_map(storage, TimeRange(END_NS + 10**12, END_NS + 2 * 10**12))
    assert (found.nodes, found.edges, found.truncated) == ((), (), False)


@pytest.mark.parametrize(
    ("time", "named"),
    [
        (TimeRange(0, MAP_MAX_RANGE_NS + 1), "start, end"),
        (TimeRange(None, END_NS), "start, end"),
        (TimeRange(END_NS, END_NS), "end"),
    ],
)
def test_ranges_are_bounded(time: TimeRange, named: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        service_map_plans(time)
    assert str(raised.value).startswith(named)

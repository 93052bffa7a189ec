"""The service map's layered layout, on hand-drawn graphs and on random ones."""

from __future__ import annotations

import random

import pytest

from otelite.analysis import Placed, layered_layout


def columns(places: dict[str, Placed]) -> list[list[str]]:
    """The nodes of each layer, top to bottom."""
    out: list[list[str]] = [[] for _ in range(max(p.layer for p in places.values()) + 1)]
    for name, place in sorted(places.items(), key=lambda item: item[1].row):
        out[place.layer].append(name)
    return out


def test_a_chain_goes_left_to_right() -> None:
    places = layered_layout(["c", "b", "a"], [("a", "b"), ("b", "c")])
    assert columns(places) == [["a"], ["b"], ["c"]]


def test_a_node_sits_right_of_its_longest_chain_of_callers() -> None:
    edges = [("user", "web"), ("web", "api"), ("api", "db"), ("web", "db"), ("user", "cdn")]
    places = layered_layout(["user", "web", "api", "db", "cdn"], edges)
    layer = {name: place.layer for name, place in places.items()}
    assert layer == {"user": 0, "web": 1, "cdn": 1, "api": 2, "db": 3}


def test_cycles_are_broken_and_sources_come_first() -> None:
    edges = [("s", "a"), ("a", "b"), ("b", "a"), ("x", "y"), ("y", "x"), ("a", "a")]
    places = layered_layout(["s", "a", "b", "x", "y"], edges)
    layer = {name: place.layer for name, place in places.items()}
    assert layer == {"s": 0, "a": 1, "b": 2, "x": 0, "y": 1}


def test_rows_untangle_crossings() -> None:
    # By name, a→d and b→c would cross; by barycentre, they do not.
    places = layered_layout(["a", "b", "c", "d"], [("a", "d"), ("b", "c")])
    assert columns(places) == [["a", "b"], ["d", "c"]]


def test_nodes_without_edges_and_unknown_ends() -> None:
    places = layered_layout(["lonely", "a"], [("a", "ghost")])
    assert places == {"a": Placed(0, 0), "lonely": Placed(0, 1)}
    assert layered_layout([], []) == {}


@pytest.mark.parametrize("seed", range(20))
def test_random_acyclic_graphs_point_right_and_fill_their_rows(seed: int) -> None:
    rng = random.Random(seed)
    names = [f"n{i}" for i in range(rng.randrange(1, 25))]
    # Edges only from lower to higher index: acyclic, whatever the names' order.
    edges = [
        (names[i], names[j])
        for i in range(len(names))
        for j in range(i + 1, len(names))
        if rng.random() < 0.15
    ]
    places = layered_layout(rng.sample(names, len(names)), edges)
    assert set(places) == set(names)
    for caller, callee in edges:
        assert places[caller].layer < places[callee].layer
    for column in columns(places):
        assert sorted(places[name].row for name in column) == list(range(len(column)))
    # Longest path: every node not in the first layer has a caller just left of it.
    for name, place in places.items():
        if place.layer:
            assert any(places[caller].layer == place.layer - 1 for caller, c in edges if c == name)
    assert layered_layout(names, edges) == places  # the same map, the same drawing

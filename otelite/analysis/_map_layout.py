"""Where the service map's nodes go: callers left, callees right, few crossings.

A layered drawing (Sugiyama's scheme, without its dummy nodes): calls that close a cycle
are set aside (the first edge a depth-first search meets back into its own path, the
search visiting sources first and names in order, so the same map is always drawn the
same way); each node's *layer* is the longest chain of calls that reaches it; within a
layer, nodes are put in order by the mean position of their neighbours in the layers
before (then after) them, a few sweeps each way, which untangles most crossings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Placed", "layered_layout"]

_SWEEPS = 6


@dataclass(frozen=True, slots=True)
class Placed:
    """A node's column (``layer``, 0 the leftmost) and row in it (``row``, 0 the top)."""

    layer: int
    row: int


def layered_layout(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> dict[str, Placed]:
    """The place of every node of ``nodes``; ``edges`` are (caller, callee) pairs (an
    edge to a node not in ``nodes`` is ignored, a self-call takes no part)."""
    names = sorted(set(nodes))
    known = set(names)
    pairs = sorted({(a, b) for a, b in edges if a != b and a in known and b in known})
    forward = _acyclic(names, pairs)
    layer = _longest_path_layers(names, forward)
    layers: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for name in names:
        layers[layer[name]].append(name)
    _order(layers, forward)
    return {
        name: Placed(i, row) for i, found in enumerate(layers) for row, name in enumerate(found)
    }


def _acyclic(names: Sequence[str], pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """``pairs`` without the edges a depth-first search finds going back up its path."""
    out: dict[str, list[str]] = {name: [] for name in names}
    has_caller = set()
    for a, b in pairs:
        out[a].append(b)
        has_caller.add(b)
    state: dict[str, int] = {}  # 1: on the path, 2: done
    back: set[tuple[str, str]] = set()
    sources = [n for n in names if n not in has_caller]
    for root in [*sources, *names]:
        if root in state:
            continue
        # Iterative, so that a long chain of calls cannot exhaust Python's stack.
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(out[child])))
    return [pair for pair in pairs if pair not in back]


def _longest_path_layers(
    names: Sequence[str], forward: Sequence[tuple[str, str]]
) -> dict[str, int]:
    callers: dict[str, list[str]] = {name: [] for name in names}
    callees: dict[str, list[str]] = {name: [] for name in names}
    for a, b in forward:
        callers[b].append(a)
        callees[a].append(b)
    waiting = {name: len(callers[name]) for name in names}
    ready = [name for name in names if not waiting[name]]
    layer = dict.fromkeys(names, 0)
    while ready:
        node = ready.pop()
        for callee in callees[node]:
            layer[callee] = max(layer[callee], layer[node] + 1)
            waiting[callee] -= 1
            if not waiting[callee]:
                ready.append(callee)
    return layer


def _order(layers: list[list[str]], forward: Sequence[tuple[str, str]]) -> None:
    """Reorder each layer in place by the barycentre of its neighbours' rows."""
    callers: dict[str, list[str]] = {}
    callees: dict[str, list[str]] = {}
    for a, b in forward:
        callers.setdefault(b, []).append(a)
        callees.setdefault(a, []).append(b)
    for _ in range(_SWEEPS):
        for found in layers[1:]:
            _by_barycentre(found, callers, _rows(layers))
        for found in reversed(layers[:-1]):
            _by_barycentre(found, callees, _rows(layers))


def _rows(layers: list[list[str]]) -> dict[str, float]:
    """Each node's row, centred so that layers of different sizes line up."""
    return {name: row - (len(found) - 1) / 2 for found in layers for row, name in enumerate(found)}


def _by_barycentre(
    layer: list[str], neighbours: dict[str, list[str]], rows: dict[str, float]
) -> None:
    def key(item: tuple[int, str]) -> tuple[float, int]:
        row, name = item
        placed = [rows[n] for n in neighbours.get(name, ())]
        # A node with no neighbour that way keeps its place.
        centre = sum(placed) / len(placed) if placed else rows[name]
        return centre, row

    layer[:] = [name for _, name in sorted(enumerate(layer), key=key)]

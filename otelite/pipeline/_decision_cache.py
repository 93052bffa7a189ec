"""The tail sampler's memory of recent decisions, so that spans coming after their trace
was decided follow it: two bounded LRU maps (the Collector's ``decision_cache``), one of
kept traces and one of dropped ones, each of its own size."""

from __future__ import annotations

from collections import OrderedDict

__all__ = ["DecisionCache", "TraceKey"]

TraceKey = tuple[str, bytes]
"""A trace is a tenant and a trace id."""


class DecisionCache:
    """Two bounded LRU maps of decided traces: kept and dropped."""

    def __init__(self, kept_size: int, dropped_size: int) -> None:
        self._maps = {True: OrderedDict[TraceKey, None](), False: OrderedDict[TraceKey, None]()}
        self._sizes = {True: kept_size, False: dropped_size}

    def get(self, key: TraceKey) -> bool | None:
        for kept, decided in self._maps.items():
            if key in decided:
                decided.move_to_end(key)
                return kept
        return None

    def put(self, key: TraceKey, kept: bool) -> None:
        self._maps[not kept].pop(key, None)
        decided = self._maps[kept]
        decided[key] = None
        decided.move_to_end(key)
        while len(decided) > self._sizes[kept]:
            decided.popitem(last=False)

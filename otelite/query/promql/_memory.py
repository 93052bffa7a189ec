"""A source of series held in memory: the engine's test double, and what a caller with
series already at hand (a derived metric, a test) evaluates PromQL over."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from otelite.query.promql._selection import Matcher, RawSeries, Selection

__all__ = ["MemorySource", "raw_series"]


class MemorySource:
    """Series kept as given; ``select`` filters them by their labels and time."""

    def __init__(self, series: Sequence[RawSeries]) -> None:
        self._series = list(series)

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> Selection:
        found = []
        for series in self._series:
            labels = dict(series.labels)
            if not all(m.matches(labels.get(m.name, "")) for m in matchers):
                continue
            keep = (series.times >= start_ms) & (series.times <= end_ms)
            found.append(
                RawSeries(
                    series.labels, series.times[keep], series.values[keep], series.stale[keep]
                )
            )
        return Selection.of([s for s in found if len(s.times)])


def raw_series(labels: dict[str, str], samples: Sequence[tuple[int, float]]) -> RawSeries:
    """A series from ``(time_ms, value)`` pairs, none of them a staleness marker."""
    times = np.array([t for t, _ in samples], dtype=np.int64)
    values = np.array([v for _, v in samples], dtype=np.float64)
    return RawSeries(tuple(sorted(labels.items())), times, values, np.zeros(len(times), bool))

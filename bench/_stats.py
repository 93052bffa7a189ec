"""Summaries of repeated measurements: median with min-max, and latency percentiles."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Summary", "paired_ratios", "percentile", "summarize"]


@dataclass(frozen=True, slots=True)
class Summary:
    """The median of several runs and the range they spanned."""

    median: float
    low: float
    high: float
    runs: int


def summarize(values: Sequence[float]) -> Summary:
    """Median, min and max of ``values`` (at least one)."""
    if not values:
        raise ValueError("summarize: no values")
    return Summary(statistics.median(values), min(values), max(values), len(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method: always an observed value."""
    if not values:
        raise ValueError("percentile: no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile: q must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Run ``i`` of one series over run ``i`` of another, for series measured by turns (run
    1 of each, then run 2, ...): what the machine did meanwhile hits both of a pair alike.
    Pairs with a zero denominator are left out."""
    if len(numerators) != len(denominators):
        raise ValueError(
            f"paired_ratios: {len(numerators)} runs against {len(denominators)}; pair each run"
        )
    return [n / d for n, d in zip(numerators, denominators, strict=True) if d > 0]

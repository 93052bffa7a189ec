"""The PromQL engine on series held in memory: what the reference Prometheus cannot be
asked (staleness markers from OTLP, otelite's limits), with answers worked out here."""

from __future__ import annotations

import numpy as np
import pytest

from otelite.query.promql import (
    Budget,
    MemorySource,
    QueryError,
    QueryTimeout,
    RawSeries,
    Vector,
    evaluate,
    parse,
    raw_series,
)

STEP_MS = 15_000


def run(query: str, source: MemorySource, steps: list[int], **options: object) -> Vector:
    grid = np.array(steps, dtype=np.int64)
    found = evaluate(parse(query), source, grid, start_ms=steps[0], end_ms=steps[-1], **options)  # type: ignore[arg-type]
    assert isinstance(found, Vector)
    return found


def counter(name: str = "x_total", points: int = 40) -> RawSeries:
    return raw_series(
        {"__name__": name, "job": "a"}, [(i * STEP_MS, 10.0 * i) for i in range(points)]
    )


def test_a_staleness_marker_ends_a_series_at_once() -> None:
    live = raw_series({"__name__": "g", "job": "a"}, [(0, 1.0), (15_000, 2.0), (30_000, 3.0)])
    # The third point was flagged "no recorded value": the series ended there.
    ended = RawSeries(live.labels, live.times, live.values, np.array([False, False, True]))
    source = MemorySource([ended])
    found = run("g", source, [20_000, 30_000, 100_000])
    # Without the marker, the lookback of 5 minutes would carry 3 (or 2) to every step.
    assert found.present.tolist() == [[True, False, False]]
    assert found.values[0, 0] == 2.0
    # A range function leaves the marker out of the window's samples.
    rates = run("count_over_time(g[1m])", source, [40_000])
    assert rates.values.tolist() == [[2.0]]


def test_too_many_samples_is_an_execution_error() -> None:
    source = MemorySource([counter()])
    with pytest.raises(QueryError, match="too many samples"):
        run("rate(x_total[10m])", source, [600_000], budget=Budget(max_samples=30))
    # Within the budget, the same query answers.
    assert run("rate(x_total[10m])", source, [600_000], budget=Budget(max_samples=100)).labels


def test_a_query_past_its_time_stops() -> None:
    source = MemorySource([counter()])
    with pytest.raises(QueryTimeout, match="timed out"):
        run("sum(rate(x_total[5m]))", source, [300_000], budget=Budget(timeout_s=0.0))


def test_subquery_steps_are_multiples_of_their_step() -> None:
    # x_total grows 10 every 15 s: its rate is 2/3 a second wherever a window has 2 samples.
    source = MemorySource([counter()])
    found = run("count_over_time(rate(x_total[1m])[5m:1m])", source, [500_000])
    # Inner steps at 240, 300, 360, 420 and 480 s are in (200, 500]; at each the rate exists.
    assert found.values.tolist() == [[5.0]]

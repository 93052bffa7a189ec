"""The order a selection puts stored points in: series after series, each in time order,
whatever order the store hands them back in."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from otelite.query.promql._stored import series_order

_DAY_MS = 86_400_000


def _expected(hashes: list[int], times: list[int]) -> list[tuple[int, list[int]]]:
    """Each series' times in order, computed with Python's sort."""
    by_series: dict[int, list[int]] = {}
    for h, t in zip(hashes, times, strict=True):
        by_series.setdefault(h, []).append(t)
    return sorted((h, sorted(ts)) for h, ts in by_series.items())


def _check(hashes: list[int], times: list[int], series: pa.Array | pa.ChunkedArray) -> None:
    order, ids, in_time, starts = series_order(series, np.array(times, dtype=np.int64))
    assert sorted(order.tolist()) == list(range(len(hashes)))
    assert in_time.tolist() == [times[i] for i in order.tolist()]
    bounds = list(zip(starts[:-1].tolist(), starts[1:].tolist(), strict=True))
    assert len(ids) == len(bounds)
    for series_id, (begin, end) in zip(ids.tolist(), bounds, strict=True):
        assert {hashes[i] for i in order[begin:end].tolist()} == {series_id}
    found = [(i, in_time[b:e].tolist()) for i, (b, e) in zip(ids.tolist(), bounds, strict=True)]
    assert sorted(found) == _expected(hashes, times)


@pytest.mark.parametrize(
    ("hashes", "times"),
    [
        pytest.param([7, 9, 7, 9, 7], [0, 0, 10, 10, 20], id="in time order"),
        pytest.param([7, 9, 7, 9, 7], [20, 10, 0, 0, 10], id="out of time order"),
        pytest.param(
            [(1 << 40) | 5, 5, (2 << 40) | 5, 5, (1 << 40) | 5],
            [30, 20, 10, 0, 0],
            id="identities sharing their low 32 bits",
        ),
        pytest.param([3, 4, 3, 4], [60 * _DAY_MS, 0, 0, 60 * _DAY_MS], id="times spanning 2^32 ms"),
        pytest.param([(1 << 63) + 1, 1, (1 << 63) + 1], [5, 5, 4], id="the top bit set"),
    ],
)
def test_points_come_out_series_after_series_in_time_order(
    hashes: list[int], times: list[int]
) -> None:
    _check(hashes, times, pa.array(hashes, pa.uint64()))
    half = len(hashes) // 2
    chunked = pa.chunked_array([hashes[:half], hashes[half:]], pa.uint64())
    _check(hashes, times, chunked)


def test_more_series_than_one_16_bit_pass_sorts() -> None:
    """70,000 series, each with three points written newest first."""
    rng = np.random.default_rng(7)
    ids = rng.choice(1 << 62, size=70_000, replace=False)
    hashes = np.concatenate([ids, ids, ids]).tolist()
    times = [3] * 70_000 + [2] * 70_000 + [1] * 70_000
    _check(hashes, times, pa.array(hashes, pa.uint64()))

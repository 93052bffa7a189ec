from __future__ import annotations

import pytest

from bench._stats import Summary, paired_ratios, percentile, summarize


def test_summarize_gives_median_and_range() -> None:
    assert summarize([3.0, 1.0, 2.0, 10.0]) == Summary(2.5, 1.0, 10.0, 4)
    assert summarize([7.0]) == Summary(7.0, 7.0, 7.0, 1)


def test_summarize_refuses_nothing() -> None:
    with pytest.raises(ValueError, match="no values"):
        summarize([])


@pytest.mark.parametrize(
    ("q", "expected"),
    [(0, 1.0), (50, 50.0), (99, 99.0), (99.5, 100.0), (100, 100.0)],
)
def test_percentile_is_nearest_rank(q: float, expected: float) -> None:
    values = [float(n) for n in range(100, 0, -1)]
    assert percentile(values, q) == expected


def test_percentile_of_fifty_requests_p99_is_the_slowest() -> None:
    values = [0.001] * 49 + [0.5]
    assert percentile(values, 99) == 0.5
    assert percentile(values, 50) == 0.001


def test_percentile_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_paired_ratios_divide_run_by_run() -> None:
    assert paired_ratios([2.0, 3.0, 4.0], [1.0, 2.0, 8.0]) == [2.0, 1.5, 0.5]
    assert paired_ratios([1.0, 5.0], [0.0, 5.0]) == [1.0]


def test_paired_ratios_refuse_unpaired_runs() -> None:
    with pytest.raises(ValueError, match="pair each run"):
        paired_ratios([1.0, 2.0], [1.0])

"""Event counts of an SLO's windows, read from a store (blocking: run it in a thread).

Every window ends at an evaluation time. A ``Prometheus`` source runs its query once per
window through otelite's PromQL engine, at every time asked at once; an ``otelite`` source
counts the service's requests among the stored spans, good and total in one query (shared
when the numerator and the total name the same requests). At one time, each window is
counted exactly; at many (a history), from counts per minute, so windows and times are
whole minutes. What is read is bounded by the windows: at most the SLO's own, 30 days,
before the first time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from otelite.analysis._openslo import Count, PromQLCount, SloDefinition, SpanCount
from otelite.analysis._slo_math import EventCounts
from otelite.query import TimeRange, compile_plan, service_request_counts_plan
from otelite.query.promql import Budget, Scalar, StorageSource, Vector, evaluate, parse
from otelite.storage import Storage

__all__ = ["HISTORY_BUCKET_NS", "read_count_series", "read_counts"]

_NS_PER_S = 1_000_000_000
_NS_PER_MS = 1_000_000
HISTORY_BUCKET_NS = 60 * _NS_PER_S
"""The resolution of a history's counts from spans: its times and windows are multiples."""


def read_counts(
    storage: Storage,
    definition: SloDefinition,
    at_ns: int,
    windows: Iterable[int],
    *,
    timeout_s: float | None = None,
) -> dict[int, EventCounts]:
    """The events of each window (seconds) ending at ``at_ns``. ``timeout_s`` bounds each
    PromQL query; PromQL errors are ``QueryError``s."""
    series = read_count_series(storage, definition, [at_ns], windows, timeout_s=timeout_s)
    return {seconds: counts[0] for seconds, counts in series.items()}


def read_count_series(
    storage: Storage,
    definition: SloDefinition,
    times_ns: Sequence[int],
    windows: Iterable[int],
    *,
    timeout_s: float | None = None,
) -> dict[int, list[EventCounts]]:
    """The events of each window (seconds) ending at each of ``times_ns`` (ascending; when
    more than one, whole minutes, as the windows are)."""
    windows = list(windows)
    times = np.asarray(times_ns, dtype=np.int64)
    reader = _Reader(storage, times, max(windows, default=0), timeout_s)
    found = {}
    for seconds in windows:
        # The numerator first: its query counts the total too, when both name the
        # same requests.
        part = reader.count(definition.numerator, seconds)
        total = reader.count(definition.total, seconds)
        found[seconds] = [
            EventCounts.of(float(t), bad=float(p))
            if definition.numerator_is_bad
            else EventCounts.of(float(t), good=float(p))
            for t, p in zip(total, part, strict=True)
        ]
    return found


class _Reader:
    def __init__(
        self, storage: Storage, times: np.ndarray, longest_s: int, timeout_s: float | None
    ) -> None:
        self._storage = storage
        self._longest_s = longest_s
        # One source for every query: it keeps what it learns of the store between them.
        self._source = StorageSource(storage)
        self._times = times
        self._timeout_s = timeout_s
        self._spans: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._totals: dict[tuple[Any, ...], np.ndarray] = {}
        self._minutes: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}

    def count(self, count: Count, seconds: int) -> np.ndarray:
        if isinstance(count, PromQLCount):
            return self._promql(count, seconds)
        if count.role == "total":
            known = self._totals.get((count.service, count.operation, seconds))
            if known is not None:
                return known
        total, good = self._requests(count, seconds)
        if count.role == "total":
            return total
        return good if count.role == "good" else total - good

    def _promql(self, count: PromQLCount, seconds: int) -> np.ndarray:
        steps = self._times // _NS_PER_MS
        value = evaluate(
            parse(count.window_query(seconds)),
            self._source,
            steps,
            start_ms=int(steps[0]),
            end_ms=int(steps[-1]),
            budget=Budget(timeout_s=self._timeout_s),
        )
        if isinstance(value, Scalar):
            values = np.asarray(value.values, dtype=np.float64)
        else:
            assert isinstance(value, Vector), "window queries are sums: vectors"
            values = np.where(value.present, value.values, 0.0).sum(axis=0)
        # NaN (no samples to take an increase of) counts no events.
        return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)

    def _requests(self, count: SpanCount, seconds: int) -> tuple[np.ndarray, np.ndarray]:
        key = (count.service, count.operation, count.latency_threshold_ns, seconds)
        found = self._spans.get(key)
        if found is None:
            found = (
                self._exact(count, seconds)
                if len(self._times) == 1
                else self._from_minutes(count, seconds)
            )
            self._spans[key] = found
            self._totals[(count.service, count.operation, seconds)] = found[0]
        return found

    def _exact(self, count: SpanCount, seconds: int) -> tuple[np.ndarray, np.ndarray]:
        at = int(self._times[0])
        [row] = self._rows(count, TimeRange(at - seconds * _NS_PER_S, at), None) or [{}]
        return (
            np.array([row.get("request_count") or 0], dtype=np.float64),
            np.array([row.get("good_count") or 0], dtype=np.float64),
        )

    def _from_minutes(self, count: SpanCount, seconds: int) -> tuple[np.ndarray, np.ndarray]:
        """Window sums from running sums of the counts per minute, read once for the
        longest window."""
        key = (count.service, count.operation, count.latency_threshold_ns)
        first = int(self._times[0]) - self._longest_s * _NS_PER_S
        if key not in self._minutes:
            minutes = (int(self._times[-1]) - first) // HISTORY_BUCKET_NS
            total, good = np.zeros(minutes + 1), np.zeros(minutes + 1)
            time = TimeRange(first, int(self._times[-1]))
            for row in self._rows(count, time, HISTORY_BUCKET_NS):
                index = (int(row["bucket_ns"]) - first) // HISTORY_BUCKET_NS + 1
                total[index] += row["request_count"] or 0
                good[index] += row["good_count"] or 0
            self._minutes[key] = (np.cumsum(total), np.cumsum(good))
        running_total, running_good = self._minutes[key]
        ends = (self._times - first) // HISTORY_BUCKET_NS
        starts = ends - seconds * _NS_PER_S // HISTORY_BUCKET_NS
        return (
            running_total[ends] - running_total[starts],
            running_good[ends] - running_good[starts],
        )

    def _rows(
        self, count: SpanCount, time: TimeRange, bucket_ns: int | None
    ) -> list[dict[str, Any]]:
        plan = service_request_counts_plan(
            time,
            count.service,
            operation=count.operation,
            latency_threshold_ns=count.latency_threshold_ns,
            bucket_ns=bucket_ns,
        )
        statement = compile_plan(plan, self._storage.dialect)
        rows: list[dict[str, Any]] = self._storage.query(
            statement.sql, statement.params, types=statement.types
        ).to_pylist()
        return rows

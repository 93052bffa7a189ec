"""Event counts of an SLO's windows, read from a store (blocking: run it in a thread).

Every window ends at the evaluation time. A ``Prometheus`` source runs its query once per
window through otelite's PromQL engine at that time; an ``otelite`` source counts the
service's requests among the stored spans of the window, good and total in one query
(shared when the numerator and the total name the same requests). What is read is bounded
by the windows: at most the SLO's own, 30 days.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from otelite.analysis._openslo import Count, PromQLCount, SloDefinition, SpanCount
from otelite.analysis._slo_math import EventCounts
from otelite.query import TimeRange, compile_plan, service_request_counts_plan
from otelite.query.promql import Budget, Scalar, StorageSource, Vector, evaluate, parse
from otelite.storage import Storage

__all__ = ["read_counts"]

_NS_PER_S = 1_000_000_000


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
    reader = _Reader(storage, at_ns, timeout_s)
    found = {}
    for seconds in windows:
        # The numerator first: its query counts the total too, when both name the
        # same requests.
        part = reader.count(definition.numerator, seconds)
        total = reader.count(definition.total, seconds)
        found[seconds] = (
            EventCounts.of(total, bad=part)
            if definition.numerator_is_bad
            else EventCounts.of(total, good=part)
        )
    return found


class _Reader:
    def __init__(self, storage: Storage, at_ns: int, timeout_s: float | None) -> None:
        self._storage = storage
        # One source for every query: it keeps what it learns of the store between them.
        self._source = StorageSource(storage)
        self._at_ns = at_ns
        self._timeout_s = timeout_s
        self._spans: dict[tuple[Any, ...], tuple[int, int]] = {}
        self._totals: dict[tuple[Any, ...], int] = {}

    def count(self, count: Count, seconds: int) -> float:
        if isinstance(count, PromQLCount):
            return self._promql(count, seconds)
        if count.role == "total":
            known = self._totals.get((count.service, count.operation, seconds))
            if known is not None:
                return known
        total, good = self._requests(count, seconds)
        return {"total": total, "good": good, "bad": total - good}[count.role]

    def _promql(self, count: PromQLCount, seconds: int) -> float:
        at_ms = self._at_ns // 1_000_000
        value = evaluate(
            parse(count.window_query(seconds)),
            self._source,
            np.array([at_ms], dtype=np.int64),
            start_ms=at_ms,
            end_ms=at_ms,
            budget=Budget(timeout_s=self._timeout_s),
        )
        if isinstance(value, Scalar):
            return _finite(float(value.values[0]))
        assert isinstance(value, Vector), "window queries are sums: vectors"
        present = value.present[:, 0]
        return _finite(float(value.values[present, 0].sum())) if present.any() else 0.0

    def _requests(self, count: SpanCount, seconds: int) -> tuple[int, int]:
        key = (count.service, count.operation, count.latency_threshold_ns, seconds)
        found = self._spans.get(key)
        if found is None:
            plan = service_request_counts_plan(
                TimeRange(self._at_ns - seconds * _NS_PER_S, self._at_ns),
                count.service,
                operation=count.operation,
                latency_threshold_ns=count.latency_threshold_ns,
            )
            statement = compile_plan(plan, self._storage.dialect)
            table = self._storage.query(statement.sql, statement.params, types=statement.types)
            [row] = table.to_pylist() or [{"request_count": 0, "good_count": 0}]
            found = (int(row["request_count"] or 0), int(row["good_count"] or 0))
            self._spans[key] = found
            self._totals[(count.service, count.operation, seconds)] = found[0]
        return found


def _finite(value: float) -> float:
    """NaN (no samples to take an increase of) counts no events."""
    return value if np.isfinite(value) else 0.0

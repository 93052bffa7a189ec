"""Stored OTLP metrics as the series PromQL selects.

A selector names series the Prometheus way; the store holds OTLP metrics. So a selection
finds in the store's catalog (``_catalog``) which stored metrics make a series of each
name the matchers accept, reads their points in the time range with each point's series
identity, orders them series after series, gives each series its Prometheus labels (from
its identity, read once and kept), keeps those every matcher accepts, and turns the
points into samples (``_stored``):

- gauges and sums: the value (a delta sum adds up to a running total, as a cumulative
  one would have reported; a non-monotonic sum is a gauge);
- explicit-bucket histograms: a ``_bucket`` series per bound (``le``, cumulative counts,
  ``+Inf`` the total), ``_sum`` and ``_count``; delta histograms add up the same way;
- summaries: a series per quantile (``quantile``), ``_sum`` and ``_count``;
- exponential histograms: one native histogram, carried as the float series of its
  parts (``_native_read``);
- a point flagged "no recorded value" is a staleness marker: the series ended there.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pyarrow as pa

from otelite.query._compile import compile_plan
from otelite.query._plan import (
    Call,
    Column,
    Compare,
    Literal,
    Op,
    Output,
    Plan,
    Select,
    Table,
    TimeRange,
)
from otelite.query.promql._catalog import (
    KINDS,
    Catalog,
    Family,
    Identity,
    identities,
)
from otelite.query.promql._names import (
    TARGET_INFO,
    Naming,
    SeriesRole,
    SeriesSource,
    target_info_labels,
)
from otelite.query.promql._native_read import COLUMNS as NATIVE_COLUMNS
from otelite.query.promql._native_read import native_series
from otelite.query.promql._selection import Matcher, RawSeries, Selection
from otelite.query.promql._series import NAME, Labels, labels_of
from otelite.query.promql._spanmetrics import (
    DERIVED_SERIES,
    derived_series,
    selects_derived,
)
from otelite.query.promql._stored import (
    Stored,
    accepts,
    buckets,
    numbers,
    packed,
    quantiles,
    series_order,
    values_of,
)
from otelite.storage import Storage

__all__ = ["StorageSource", "points_plan", "time_range"]

_SELECTABLE = frozenset(SeriesRole)
_NO_RECORDED_VALUE = 1  # DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK
_NS_PER_MS = 1_000_000
_TARGET_STEP_NS = 15 * 1_000_000_000


class StorageSource:
    """Series read from a store; one instance per query (it reads the catalog once)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._catalog = Catalog(storage, self.rows)

    def families(self) -> list[Family]:
        """The store's metrics, each under its Prometheus family name."""
        return self._catalog.families()

    def names(self) -> dict[str, list[SeriesSource]]:
        """Every Prometheus series name the store's metrics make."""
        return self._catalog.names()

    def listed_names(self) -> list[str]:
        """The series names to offer people: each once, escaped as Prometheus writes it."""
        stored = (
            name
            for name, sources in self.names().items()
            if any(s.naming is Naming.ESCAPED for s in sources)
        )
        has_metrics = bool(self._catalog.entries())
        return sorted({*stored, *DERIVED_SERIES, *((TARGET_INFO,) if has_metrics else ())})

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> Selection:
        others = [m for m in matchers if m.name != NAME]
        time = time_range(start_ms, end_ms)
        parts: list[Selection] = []
        for (table, metric), roles in self.wanted(matchers, _SELECTABLE).items():
            parts += self._series_of(table, metric, roles, time, others)
        derived = selects_derived(list(matchers))
        parts.append(derived_series(self.rows, derived, list(matchers), start_ms, end_ms))
        if all(m.matches(TARGET_INFO) for m in matchers if m.name == NAME):
            parts.append(Selection.of(self._target_info(others, time)))
        return _merged(Selection.joined(parts))

    def _target_info(self, matchers: list[Matcher], time: TimeRange) -> list[RawSeries]:
        """``target_info`` (value 1) of each resource with attributes besides its service
        and instance, with a sample at its latest point in every 15 seconds it reported
        any metric point, as Prometheus's OTLP receiver writes one with each batch."""
        samples: dict[Labels, set[int]] = {}
        for table in KINDS:
            for row in self.rows(_resources_plan(table, time)).to_pylist():
                labels = target_info_labels(dict(row["resource"]))
                if not labels:
                    continue
                labels[NAME] = TARGET_INFO
                if all(m.matches(labels.get(m.name, "")) for m in matchers):
                    at = int(row["at_ns"])
                    samples.setdefault(labels_of(labels), set()).add(at // _NS_PER_MS)
        found = []
        for series, times in samples.items():
            ordered = np.array(sorted(times), dtype=np.int64)
            no_markers = np.zeros(len(ordered), dtype=bool)
            found.append(RawSeries(series, ordered, np.ones(len(ordered)), no_markers))
        return found

    def wanted(
        self, matchers: Sequence[Matcher], roles: frozenset[SeriesRole]
    ) -> dict[tuple[Table, str], list[tuple[str, SeriesRole]]]:
        """The stored metrics (table, name) that make a series the ``__name__`` matchers
        accept, each with the series names and ``roles`` it makes them in."""
        naming = [m.matches for m in matchers if m.name == NAME]
        return self._catalog.wanted(naming, roles)

    def rows(self, plan: Plan) -> pa.Table:
        """The rows a plan answers, from the store."""
        statement = compile_plan(plan, self._storage.dialect)
        return self._storage.query(statement.sql, statement.params, types=statement.types)

    def identities(
        self, table: Table, metric: str, time: TimeRange, ids: Iterable[int] | None = None
    ) -> dict[int, Identity]:
        """The identity of each series of ``metric`` in ``time`` (of those in ``ids``)."""
        if ids is None:
            ids = (int(i) for i in self.rows(_ids_plan(table, metric, time)).column("series"))
        return identities(self._storage, self.rows, table, metric, time, set(ids))

    def _series_of(
        self,
        table: Table,
        metric: str,
        roles: list[tuple[str, SeriesRole]],
        time: TimeRange,
        matchers: list[Matcher],
    ) -> list[Selection]:
        """The series of one stored metric, in each of its roles, that ``matchers``
        accept."""
        points = self.rows(points_plan(table, metric, time))
        if not points.num_rows:
            return []
        times = numbers(points.column("time_ns"), np.int64) // _NS_PER_MS
        order, ids, times, starts = series_order(points.column("series"), times)
        known = self.identities(table, metric, time, ids.tolist())
        flags = numbers(points.column("flags").fill_null(0))[order]
        stale = (flags & _NO_RECORDED_VALUE) != 0
        stored = Stored(known, ids, times, stale, starts, matchers)
        ordered: pa.Table | None = None  # the points themselves, for the list columns
        found = []
        for name, role in roles:
            if role in (SeriesRole.VALUE, SeriesRole.SUM, SeriesRole.COUNT):
                found.append(packed(stored, name, values_of(table, points, role)[order]))
                continue
            if ordered is None:
                ordered = points.take(pa.array(order))
            if role is SeriesRole.BUCKET:
                found.append(buckets(ordered, stored, name))
            elif role is SeriesRole.QUANTILE:
                found.append(quantiles(ordered, stored, name))
            else:
                hashes = np.repeat(ids, np.diff(starts))
                parts = native_series(ordered, known, name, hashes, times, stale)
                found.append(Selection.of([s for s in parts if accepts(s.labels, matchers)]))
        return found


def time_range(start_ms: int, end_ms: int) -> TimeRange:
    """``[start, end]`` in ms as the plans' range of ns (whose end is open)."""
    return TimeRange(start_ms * _NS_PER_MS, (end_ms + 1) * _NS_PER_MS)


def _merged(found: Selection) -> Selection:
    """Stored series that look alike to Prometheus (two metrics or two identities that
    make the same labels) as one, in time order."""
    if len(set(found.labels)) == len(found.labels):
        return found
    by_labels: dict[Labels, list[RawSeries]] = {}
    for row in range(len(found)):
        series = found.series(row)
        by_labels.setdefault(series.labels, []).append(series)
    merged = []
    for labels, parts in by_labels.items():
        times = np.concatenate([p.times for p in parts])
        order = np.argsort(times, kind="stable")
        merged.append(
            RawSeries(
                labels,
                times[order],
                np.concatenate([p.values for p in parts])[order],
                np.concatenate([p.stale for p in parts])[order],
            )
        )
    return Selection.of(merged)


def _resources_plan(table: Table, time: TimeRange) -> Select:
    """Each resource of a metric table, and its latest point time in every 15 seconds
    it has points."""
    at = Call("timestamp_to_ns", (Column("TimeUnix"),))
    return Select(
        table,
        (
            Output(
                "resource_hash",
                Call("hash2", (Column("ResourceAttributes"), Column("ServiceName"))),
            ),
            Output(
                "bucket_ns", Call("time_bucket_ns", (Column("TimeUnix"), Literal(_TARGET_STEP_NS)))
            ),
            Output("resource", Call("arg_min", (Column("ResourceAttributes"), Column("TimeUnix")))),
            Output("at_ns", Call("max", (at,))),
        ),
        time=time,
        group_by=("resource_hash", "bucket_ns"),
    )


def _ids_plan(table: Table, metric: str, time: TimeRange) -> Select:
    """The identity of each series of ``metric`` in ``time``."""
    return Select(
        table,
        (Output("series", Call("series_id", ())),),
        where=Compare(Column("MetricName"), Op.EQ, metric),
        time=time,
        group_by=("series",),
    )


_POINTS = {
    Table.GAUGE: ("Value", "ValueInt"),
    Table.SUM: ("Value", "ValueInt"),
    Table.HISTOGRAM: ("Count", "Sum", "BucketCounts", "ExplicitBounds"),
    Table.SUMMARY: ("Count", "Sum", "ValueAtQuantiles"),
    Table.EXPONENTIAL_HISTOGRAM: NATIVE_COLUMNS,
}


def points_plan(
    table: Table, metric: str, time: TimeRange, *, extra: tuple[str, ...] = ()
) -> Select:
    """The points of ``metric`` in ``time``, in no particular order, each with its
    series identity and the columns samples are made of (and ``extra`` ones)."""
    return Select(
        table,
        (
            Output("series", Call("series_id", ())),
            Output("time_ns", Call("timestamp_to_ns", (Column("TimeUnix"),))),
            Output("flags", Column("Flags")),
            *(Output(c, Column(c)) for c in dict.fromkeys((*_POINTS[table], *extra))),
        ),
        where=Compare(Column("MetricName"), Op.EQ, metric),
        time=time,
    )

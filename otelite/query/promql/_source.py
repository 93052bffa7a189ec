"""Stored OTLP metrics as the series PromQL selects.

A selector names series the Prometheus way; the store holds OTLP metrics. So a selection
first reads the store's catalog (each metric's name, unit and type) and finds, through
``series_index``, which stored metrics make a series of each name the matchers accept.
For those it reads each stored series' identity (resource, scope, attributes) once and
its points apart, gives each series its Prometheus labels (``series_labels``), keeps
those every matcher accepts, and turns the points into samples:

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

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from otelite.query._compile import compile_plan
from otelite.query._plan import (
    Call,
    Column,
    Compare,
    Literal,
    Op,
    Order,
    Output,
    Plan,
    Select,
    Table,
    TimeRange,
)
from otelite.query.promql._engine import Matcher, RawSeries
from otelite.query.promql._names import (
    TARGET_INFO,
    MetricKind,
    Naming,
    SeriesRole,
    SeriesSource,
    metric_name,
    series_index,
    series_labels,
    target_info_labels,
)
from otelite.query.promql._native_read import COLUMNS as NATIVE_COLUMNS
from otelite.query.promql._native_read import native_series
from otelite.query.promql._series import NAME, Labels, format_value, labels_of
from otelite.query.promql._spanmetrics import (
    DERIVED_FAMILIES,
    DERIVED_SERIES,
    derived_series,
    selects_derived,
)
from otelite.storage import Storage

__all__ = ["Family", "Identity", "StorageSource", "points_plan", "time_range"]

_KINDS = {
    Table.GAUGE: MetricKind.GAUGE,
    Table.SUM: MetricKind.SUM,
    Table.HISTOGRAM: MetricKind.HISTOGRAM,
    Table.EXPONENTIAL_HISTOGRAM: MetricKind.EXPONENTIAL_HISTOGRAM,
    Table.SUMMARY: MetricKind.SUMMARY,
}
_TABLES = {kind: table for table, kind in _KINDS.items()}
_SELECTABLE = frozenset(SeriesRole)
_NO_RECORDED_VALUE = 1  # DataPointFlags.FLAG_NO_RECORDED_VALUE_MASK
_DELTA = 1  # AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
_NS_PER_MS = 1_000_000
_TARGET_STEP_NS = 15 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class Family:
    """A metric family as the metadata API lists it."""

    name: str
    kind: MetricKind
    monotonic: bool
    unit: str
    description: str


@dataclass(frozen=True, slots=True)
class Identity:
    """A stored series as Prometheus sees it: its labels (without ``__name__``), and
    whether its points are deltas."""

    labels: dict[str, str]
    delta: bool


class StorageSource:
    """Series read from a store; one instance per query (it keeps the catalog)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._index: dict[str, list[SeriesSource]] | None = None
        self._families: list[Family] | None = None
        self._catalog: list[tuple[str, str, MetricKind, bool]] = []

    def families(self) -> list[Family]:
        """The store's metrics, each under its Prometheus family name."""
        if self._families is None:
            self._families = []
            for table, kind in _KINDS.items():
                for row in self._rows(_catalog_plan(table)):
                    name, unit = str(row["name"]), str(row["unit"] or "")
                    monotonic = bool(row.get("monotonic"))
                    family = metric_name(name, unit, kind, monotonic)
                    if family:
                        description = str(row["description"] or "")
                        self._families.append(Family(family, kind, monotonic, unit, description))
                    self._catalog.append((name, unit, kind, monotonic))
            for family, (kind_name, unit, description) in DERIVED_FAMILIES.items():
                kind = MetricKind.SUM if kind_name == "counter" else MetricKind.HISTOGRAM
                self._families.append(
                    Family(family, kind, kind is MetricKind.SUM, unit, description)
                )
        return self._families

    def names(self) -> dict[str, list[SeriesSource]]:
        """Every Prometheus series name the store's metrics make."""
        if self._index is None:
            self.families()
            self._index = series_index(self._catalog)
        return self._index

    def listed_names(self) -> list[str]:
        """The series names to offer people: each once, escaped as Prometheus writes it."""
        stored = (
            name
            for name, sources in self.names().items()
            if any(s.naming is Naming.ESCAPED for s in sources)
        )
        return sorted({*stored, *DERIVED_SERIES, *((TARGET_INFO,) if self._catalog else ())})

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[RawSeries]:
        others = [m for m in matchers if m.name != NAME]
        time = time_range(start_ms, end_ms)
        by_labels: dict[Labels, list[RawSeries]] = {}
        for (table, metric), roles in self.wanted(matchers, _SELECTABLE).items():
            for series in self._series_of(table, metric, roles, time):
                labels = dict(series.labels)
                if all(m.matches(labels.get(m.name, "")) for m in others):
                    by_labels.setdefault(series.labels, []).append(series)
        found = [_merged(parts) for parts in by_labels.values()]
        derived = selects_derived(list(matchers))
        found += derived_series(self.rows, derived, list(matchers), start_ms, end_ms)
        if all(m.matches(TARGET_INFO) for m in matchers if m.name == NAME):
            found += self._target_info(others, time)
        return found

    def _target_info(self, matchers: list[Matcher], time: TimeRange) -> list[RawSeries]:
        """``target_info`` (value 1) of each resource with attributes besides its service
        and instance, with a sample at its latest point in every 15 seconds it reported
        any metric point, as Prometheus's OTLP receiver writes one with each batch."""
        samples: dict[Labels, set[int]] = {}
        for table in _KINDS:
            for row in self._rows(_resources_plan(table, time)):
                resource = dict(row["resource"])  # type: ignore[call-overload]
                labels = target_info_labels(resource)
                if not labels:
                    continue
                labels[NAME] = TARGET_INFO
                if all(m.matches(labels.get(m.name, "")) for m in matchers):
                    at = int(row["at_ns"])  # type: ignore[call-overload]
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
        naming = [m for m in matchers if m.name == NAME]
        found: dict[tuple[Table, str], list[tuple[str, SeriesRole]]] = {}
        for name, sources in self.names().items():
            if not all(m.matches(name) for m in naming):
                continue
            for source in sources:
                if source.role in roles:
                    key = (_TABLES[source.metric.kind], source.metric.name)
                    found.setdefault(key, []).append((name, source.role))
        return found

    def rows(self, plan: Plan) -> pa.Table:
        """The rows a plan answers, from the store."""
        statement = compile_plan(plan, self._storage.dialect)
        return self._storage.query(statement.sql, statement.params, types=statement.types)

    def _rows(self, plan: Select) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = self.rows(plan).to_pylist()
        return rows

    def identities(self, table: Table, metric: str, time: TimeRange) -> dict[int, Identity]:
        """Each stored series of ``metric`` in ``time``, by the hash its points carry."""
        found: dict[int, Identity] = {}
        for row in self._rows(_identity_plan(table, metric, time)):
            resource = dict(row["resource"])  # type: ignore[call-overload]
            attributes = dict(row["attributes"])  # type: ignore[call-overload]
            labels = series_labels(
                resource, str(row["scope_name"] or ""), str(row["scope_version"] or ""), attributes
            )
            found[int(row["series"])] = Identity(  # type: ignore[call-overload]
                labels, row.get("temporality") == _DELTA
            )
        return found

    def _series_of(
        self, table: Table, metric: str, roles: list[tuple[str, SeriesRole]], time: TimeRange
    ) -> Iterable[RawSeries]:
        identities = self.identities(table, metric, time)
        if not identities:
            return
        points = self.rows(points_plan(table, metric, time))
        for name, role in roles:
            yield from _samples(table, points, identities, name, role)


def time_range(start_ms: int, end_ms: int) -> TimeRange:
    """``[start, end]`` in ms as the plans' range of ns (whose end is open)."""
    return TimeRange(start_ms * _NS_PER_MS, (end_ms + 1) * _NS_PER_MS)


def _samples(
    table: Table, points: pa.Table, identities: dict[int, Identity], name: str, role: SeriesRole
) -> Iterable[RawSeries]:
    hashes = _numbers(points.column("series"), np.uint64)
    times = _numbers(points.column("time_ns"), np.int64) // _NS_PER_MS
    flags = _numbers(points.column("flags").fill_null(0))
    stale = (flags & _NO_RECORDED_VALUE) != 0
    if role is SeriesRole.BUCKET:
        yield from _buckets(points, identities, name, hashes, times, stale)
        return
    if role is SeriesRole.QUANTILE:
        yield from _quantiles(points, identities, name, hashes, times, stale)
        return
    if role is SeriesRole.HISTOGRAM:
        yield from native_series(points, identities, name, hashes, times, stale)
        return
    if table in (Table.GAUGE, Table.SUM):
        as_int = pc.cast(points.column("ValueInt"), pa.float64())
        value = pc.coalesce(points.column("Value"), as_int)
    else:
        value = pc.cast(points.column("Sum" if role is SeriesRole.SUM else "Count"), pa.float64())
    values = _numbers(value.fill_null(np.nan), np.float64)
    starts = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1])))
    bounds = [*starts.tolist(), len(hashes)]
    for begin, end in itertools.pairwise(bounds):
        identity = identities.get(int(hashes[begin]))
        if identity is None:
            continue
        v = values[begin:end]
        if identity.delta:
            v = np.cumsum(np.nan_to_num(v, nan=0.0))
        labels = labels_of({**identity.labels, NAME: name})
        yield RawSeries(labels, times[begin:end], v, stale[begin:end])


def _buckets(
    points: pa.Table,
    identities: dict[int, Identity],
    name: str,
    hashes: np.ndarray,
    times: np.ndarray,
    stale: np.ndarray,
) -> Iterable[RawSeries]:
    """A ``_bucket`` series per bound, the counts made cumulative over the bounds."""
    counts_list = points.column("BucketCounts").combine_chunks()
    bounds_list = points.column("ExplicitBounds").combine_chunks()
    lengths = _numbers(pc.list_value_length(counts_list).fill_null(0))
    counts = _numbers(pc.list_flatten(counts_list), np.float64)
    bounds = _numbers(pc.list_flatten(bounds_list), np.float64)
    point = np.repeat(np.arange(len(lengths)), lengths)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    position = np.arange(len(counts)) - offsets[point]
    # The last bucket of a point is above its last bound: +Inf.
    bound_lengths = _numbers(pc.list_value_length(bounds_list).fill_null(0))
    bound_offsets = np.concatenate(([0], np.cumsum(bound_lengths)))
    is_last = position >= bound_lengths[point]
    own_bound = np.minimum(bound_offsets[point] + position, max(len(bounds) - 1, 0))
    le = np.where(is_last, np.inf, bounds[own_bound] if len(bounds) else np.inf)
    running = np.cumsum(counts)
    cumulative = running - np.concatenate(([0.0], running))[offsets[point]]
    yield from _per_item(
        identities, name, "le", point, le, cumulative, hashes, times, stale, adds_up=True
    )


def _quantiles(
    points: pa.Table,
    identities: dict[int, Identity],
    name: str,
    hashes: np.ndarray,
    times: np.ndarray,
    stale: np.ndarray,
) -> Iterable[RawSeries]:
    """A summary's series per quantile (``quantile="0.99"``)."""
    items = points.column("ValueAtQuantiles").combine_chunks()
    lengths = _numbers(pc.list_value_length(items).fill_null(0))
    flat = pc.list_flatten(items)
    quantiles = _numbers(pc.struct_field(flat, "Quantile"), np.float64)
    values = _numbers(pc.struct_field(flat, "Value"), np.float64)
    point = np.repeat(np.arange(len(lengths)), lengths)
    yield from _per_item(
        identities, name, "quantile", point, quantiles, values, hashes, times, stale
    )


def _per_item(
    identities: dict[int, Identity],
    name: str,
    label: str,
    point: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    hashes: np.ndarray,
    times: np.ndarray,
    stale: np.ndarray,
    *,
    adds_up: bool = False,
) -> Iterable[RawSeries]:
    """Items of the points' lists (buckets, quantiles) as a series per stored series and
    item key, which ``label`` carries; ``adds_up``: delta points add up over time."""
    order = np.lexsort((times[point], keys, hashes[point]))
    for (h, key), rows in _groups(hashes[point][order], keys[order]):
        identity = identities.get(int(h))
        if identity is None:
            continue
        picked = order[rows]
        v = values[picked]
        if adds_up and identity.delta:
            v = np.cumsum(v)
        labels = labels_of({**identity.labels, NAME: name, label: format_value(key)})
        yield RawSeries(labels, times[point][picked], v, stale[point][picked])


def _numbers(column: pa.Array | pa.ChunkedArray, dtype: type | None = None) -> np.ndarray:
    found = np.asarray(column.to_numpy(zero_copy_only=False))
    return found if dtype is None else found.astype(dtype)


def _groups(hashes: np.ndarray, bounds: np.ndarray) -> Iterable[tuple[tuple[int, float], slice]]:
    if not len(hashes):
        return
    change = (hashes[1:] != hashes[:-1]) | (bounds[1:] != bounds[:-1])
    starts = [0, *(np.flatnonzero(change) + 1).tolist(), len(hashes)]
    for begin, end in itertools.pairwise(starts):
        yield (int(hashes[begin]), float(bounds[begin])), slice(begin, end)


def _merged(parts: list[RawSeries]) -> RawSeries:
    """Stored series that look alike to Prometheus as one, in time order."""
    if len(parts) == 1:
        return parts[0]
    times = np.concatenate([p.times for p in parts])
    order = np.argsort(times, kind="stable")
    return RawSeries(
        parts[0].labels,
        times[order],
        np.concatenate([p.values for p in parts])[order],
        np.concatenate([p.stale for p in parts])[order],
    )


def _catalog_plan(table: Table) -> Select:
    latest = Column("TimeUnix")
    outputs = [
        Output("name", Column("MetricName")),
        Output("unit", Call("arg_max", (Column("MetricUnit"), latest))),
        Output("description", Call("arg_max", (Column("MetricDescription"), latest))),
    ]
    if table is Table.SUM:
        outputs.append(Output("monotonic", Call("arg_max", (Column("IsMonotonic"), latest))))
    return Select(table, tuple(outputs), group_by=("name",), order_by=(Order("name"),))


def _series_hash() -> Call:
    return Call(
        "hash2",
        (
            Call("hash2", (Column("ResourceAttributes"), Column("Attributes"))),
            Call("hash2", (Column("ScopeName"), Column("ScopeVersion"))),
        ),
    )


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


def _identity_plan(table: Table, metric: str, time: TimeRange) -> Select:
    """One row per stored series of ``metric`` in ``time``: grouped by the hash its
    points carry (the identity's columns are the same on every point of it; grouping by
    the maps themselves costs several times more)."""
    first = Column("TimeUnix")
    columns = {
        "resource": "ResourceAttributes",
        "scope_name": "ScopeName",
        "scope_version": "ScopeVersion",
        "attributes": "Attributes",
    }
    if table in (Table.SUM, Table.HISTOGRAM, Table.EXPONENTIAL_HISTOGRAM):
        columns["temporality"] = "AggregationTemporality"
    return Select(
        table,
        (
            Output("series", _series_hash()),
            *(
                Output(name, Call("arg_min", (Column(column), first)))
                for name, column in columns.items()
            ),
        ),
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
    """The points of ``metric`` in ``time``, series after series, each in time order, with
    the columns samples are made of (and ``extra`` ones)."""
    return Select(
        table,
        (
            Output("series", _series_hash()),
            Output("time_ns", Call("timestamp_to_ns", (Column("TimeUnix"),))),
            Output("flags", Column("Flags")),
            *(Output(c, Column(c)) for c in dict.fromkeys((*_POINTS[table], *extra))),
        ),
        where=Compare(Column("MetricName"), Op.EQ, metric),
        time=time,
        order_by=(Order("series"), Order("time_ns")),
    )

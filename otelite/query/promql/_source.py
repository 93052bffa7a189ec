"""Stored OTLP metrics as the series PromQL selects.

A selector names series the Prometheus way; the store holds OTLP metrics. So a selection
finds in the store's catalog (``_catalog``) which stored metrics make a series of each
name the matchers accept, reads their points in the time range with each point's series
identity, orders them series after series, gives each series its Prometheus labels (from
its identity, read once and kept), keeps those every matcher accepts, and turns the
points into samples:

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
    with_label,
    with_name,
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
from otelite.query.promql._series import NAME, Labels, format_value, labels_of
from otelite.query.promql._spanmetrics import (
    DERIVED_SERIES,
    derived_series,
    selects_derived,
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
        loose = derived_series(self.rows, derived, list(matchers), start_ms, end_ms)
        if all(m.matches(TARGET_INFO) for m in matchers if m.name == NAME):
            loose += self._target_info(others, time)
        parts.append(Selection.of(loose))
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
        hashes = _numbers(points.column("series"), np.uint64)
        times = _numbers(points.column("time_ns"), np.int64) // _NS_PER_MS
        order, hashes, times, starts = _series_order(hashes, times)
        known = self.identities(table, metric, time, np.unique(hashes[starts[:-1]]).tolist())
        flags = _numbers(points.column("flags").fill_null(0))[order]
        stale = (flags & _NO_RECORDED_VALUE) != 0
        stored = _Stored(known, hashes, times, stale, starts, matchers)
        ordered: pa.Table | None = None  # the points themselves, for the list columns
        found = []
        for name, role in roles:
            if role in (SeriesRole.VALUE, SeriesRole.SUM, SeriesRole.COUNT):
                found.append(_packed(stored, name, _values(table, points, role)[order]))
                continue
            if ordered is None:
                ordered = points.take(pa.array(order))
            if role is SeriesRole.BUCKET:
                found.append(_buckets(ordered, stored, name))
            elif role is SeriesRole.QUANTILE:
                found.append(_quantiles(ordered, stored, name))
            else:
                parts = native_series(ordered, known, name, hashes, times, stale)
                found.append(Selection.of([s for s in parts if _accepts(s.labels, matchers)]))
        return found


def time_range(start_ms: int, end_ms: int) -> TimeRange:
    """``[start, end]`` in ms as the plans' range of ns (whose end is open)."""
    return TimeRange(start_ms * _NS_PER_MS, (end_ms + 1) * _NS_PER_MS)


def _series_order(
    hashes: np.ndarray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The order that puts points series after series, each series in time order; the
    identities and times in that order; and where each series starts in it (and the end).

    numpy sorts 16-bit keys by radix, several times faster than it sorts 64-bit ones, so
    the order is made of stable 16-bit sorts: by the identity's low 32 bits in two, and,
    when some series' points are not already in time order (clients that send in
    parallel), by time first in two more. Two series whose identities share those bits
    fall back to a full sort."""
    order = _radix(hashes)
    ordered, in_time = hashes[order], times[order]
    same = ordered[1:] == ordered[:-1]
    low = ordered & np.uint64(0xFFFFFFFF)
    if ((low[1:] == low[:-1]) & ~same).any():
        order = np.lexsort((times, hashes))
    elif ((in_time[1:] < in_time[:-1]) & same).any():
        order = _radix(hashes, _time_order(times))
    else:
        return order, ordered, in_time, _starts(same)
    ordered = hashes[order]
    return order, ordered, times[order], _starts(ordered[1:] == ordered[:-1])


def _starts(same: np.ndarray) -> np.ndarray:
    """Where each run starts, given whether each item equals the one before it (and the
    end)."""
    return np.append(np.flatnonzero(np.concatenate(([True], ~same))), len(same) + 1)


def _radix(keys: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """``order`` (or the keys as they lie) stably sorted by the low 32 bits of ``keys``
    (unsigned), in two 16-bit passes."""
    low = (keys & np.uint64(0xFFFF)).astype(np.uint16)
    high = ((keys >> np.uint64(16)) & np.uint64(0xFFFF)).astype(np.uint16)
    if order is None:
        order = np.argsort(low, kind="stable")
    else:
        order = order[np.argsort(low[order], kind="stable")]
    return order[np.argsort(high[order], kind="stable")]


def _time_order(times: np.ndarray) -> np.ndarray:
    """The order of ``times`` (stable): by radix when they span less than 2^32 ms."""
    span = times - times.min()
    if span.max() >= 1 << 32:
        return np.argsort(times, kind="stable")
    return _radix(span.astype(np.uint64))


@dataclass(frozen=True, slots=True)
class _Stored:
    """Points ordered series after series (series ``k`` from ``starts[k]``), and what a
    selection needs to make series of them."""

    identities: dict[int, Identity]
    hashes: np.ndarray
    times: np.ndarray
    stale: np.ndarray
    starts: np.ndarray
    matchers: list[Matcher]


def _values(table: Table, points: pa.Table, role: SeriesRole) -> np.ndarray:
    """The value of each point in ``role`` (a gauge's or a sum's value, a histogram's or
    a summary's sum or count)."""
    if table in (Table.GAUGE, Table.SUM):
        as_int = pc.cast(points.column("ValueInt"), pa.float64())
        value = pc.coalesce(points.column("Value"), as_int)
    else:
        value = pc.cast(points.column("Sum" if role is SeriesRole.SUM else "Count"), pa.float64())
    return _numbers(value.fill_null(np.nan), np.float64)


def _packed(stored: _Stored, name: str, values: np.ndarray) -> Selection:
    """The series named ``name`` that ``matchers`` accept, from points ordered series
    after series (each series starting at ``starts``), packed as they lie. A delta
    series' values add up to running totals."""
    starts, times, stale = stored.starts, stored.times, stored.stale
    lengths = np.diff(starts)
    labels: list[Labels] = []
    keep = np.zeros(len(lengths), dtype=bool)
    delta = np.zeros(len(lengths), dtype=bool)
    for row, series in enumerate(stored.hashes[starts[:-1]].tolist()):
        identity = stored.identities.get(series)
        if identity is None:
            continue
        named = with_name(identity.labels, name)
        if _accepts(named, stored.matchers):
            keep[row], delta[row] = True, identity.delta
            labels.append(named)
    if delta.any():
        is_delta = np.repeat(delta, lengths)
        added = np.cumsum(np.where(is_delta, np.nan_to_num(values, nan=0.0), 0.0))
        before = np.concatenate(([0.0], added))[starts[:-1]]
        values = np.where(is_delta, added - np.repeat(before, lengths), values)
    if not keep.all():
        points = np.repeat(keep, lengths)
        times, values, stale = times[points], values[points], stale[points]
        lengths = lengths[keep]
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.intp)
    return Selection(labels, times, values, stale, offsets)


def _accepts(labels: Labels, matchers: list[Matcher]) -> bool:
    if not matchers:
        return True
    found = dict(labels)
    return all(m.matches(found.get(m.name, "")) for m in matchers)


def _buckets(points: pa.Table, stored: _Stored, name: str) -> Selection:
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
    return _per_item(stored, name, "le", lengths, le, cumulative, adds_up=True)


def _quantiles(points: pa.Table, stored: _Stored, name: str) -> Selection:
    """A summary's series per quantile (``quantile="0.99"``)."""
    items = points.column("ValueAtQuantiles").combine_chunks()
    lengths = _numbers(pc.list_value_length(items).fill_null(0))
    flat = pc.list_flatten(items)
    quantiles = _numbers(pc.struct_field(flat, "Quantile"), np.float64)
    values = _numbers(pc.struct_field(flat, "Value"), np.float64)
    return _per_item(stored, name, "quantile", lengths, quantiles, values)


def _per_item(
    stored: _Stored,
    name: str,
    label: str,
    lengths: np.ndarray,
    keys: np.ndarray,
    values: np.ndarray,
    *,
    adds_up: bool = False,
) -> Selection:
    """Items of the points' lists (buckets, quantiles; ``lengths`` of them per point, in
    point order) as a series per stored series and item key, which ``label`` carries;
    ``adds_up``: delta points add up over time.

    A series whose points all have the same keys (the usual case) is a block of points x
    keys, whose columns are its series; any other is split key by key."""
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.intp)
    labels: list[Labels] = []
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    uneven: list[RawSeries] = []
    starts = stored.starts.tolist()
    for begin, end in itertools.pairwise(starts):
        identity = stored.identities.get(int(stored.hashes[begin]))
        if identity is None:
            continue
        base = with_name(identity.labels, name)
        first, last = offsets[begin], offsets[end]
        width, points = int(lengths[begin]), end - begin
        block_keys = keys[first:last].reshape(points, width) if width else None
        if (
            block_keys is None
            or not (lengths[begin:end] == width).all()
            or not (block_keys == block_keys[0]).all()
        ):
            uneven += _by_key(stored, base, label, keys, values, offsets, begin, end, adds_up)
            continue
        block = values[first:last].reshape(points, width).T
        if adds_up and identity.delta:
            block = np.cumsum(block, axis=1)
        times, stale = stored.times[begin:end], stored.stale[begin:end]
        for column, key in enumerate(block_keys[0].tolist()):
            named = with_label(base, label, format_value(key))
            if _accepts(named, stored.matchers):
                labels.append(named)
                parts.append((times, block[column], stale))
    sizes = [len(t) for t, _, _ in parts]
    even = Selection(
        labels,
        np.concatenate([np.zeros(0, np.int64), *(t for t, _, _ in parts)]),
        np.concatenate([np.zeros(0), *(v for _, v, _ in parts)]),
        np.concatenate([np.zeros(0, bool), *(s for _, _, s in parts)]),
        np.concatenate(([0], np.cumsum(sizes))).astype(np.intp),
    )
    kept = [s for s in uneven if _accepts(s.labels, stored.matchers)]
    return Selection.joined([even, Selection.of(kept)])


def _by_key(
    stored: _Stored,
    base: Labels,
    label: str,
    keys: np.ndarray,
    values: np.ndarray,
    offsets: np.ndarray,
    begin: int,
    end: int,
    adds_up: bool,
) -> list[RawSeries]:
    """The items of one stored series' points (``begin`` to ``end``) whose keys differ
    from point to point: a series per key, each in time order."""
    first, last = offsets[begin], offsets[end]
    point = np.repeat(np.arange(begin, end), np.diff(offsets[begin : end + 1]))
    found = []
    item_keys, item_values = keys[first:last], values[first:last]
    delta = adds_up and stored.identities[int(stored.hashes[begin])].delta
    for key in np.unique(item_keys).tolist():
        at = item_keys == key
        v = item_values[at]
        found.append(
            RawSeries(
                with_label(base, label, format_value(key)),
                stored.times[point[at]],
                np.cumsum(v) if delta else v,
                stored.stale[point[at]],
            )
        )
    return found


def _numbers(column: pa.Array | pa.ChunkedArray, dtype: type | None = None) -> np.ndarray:
    found = np.asarray(column.to_numpy(zero_copy_only=False))
    return found if dtype is None else found.astype(dtype)


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

"""Stored metric points as packed series: ordered series after series, labelled, kept
where the matchers accept them, and turned into samples.

A selection reads a stored metric's points in no particular order, each with its series
identity; ``series_order`` puts them series after series, each in time order, and
``Stored`` holds them so. Then each role of the metric makes its series from them:
values as they lie (``packed``; a delta series adds up), or a series per list item
(``buckets``, ``quantiles``: per stored series, a block of points x items).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from otelite.query._plan import Table
from otelite.query.promql._catalog import Identity, with_label, with_name
from otelite.query.promql._names import SeriesRole
from otelite.query.promql._selection import Matcher, RawSeries, Selection
from otelite.query.promql._series import Labels, format_value, numbers

__all__ = [
    "Stored",
    "accepts",
    "buckets",
    "numbers",
    "packed",
    "quantiles",
    "series_order",
    "values_of",
]


def series_order(
    series: pa.Array | pa.ChunkedArray, times: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For points with the series identities ``series`` and ``times``: the order that
    puts them series after series, each series in time order; each series' identity; the
    times in that order; and where each series starts in it (and the end).

    Each identity is numbered (a hash table's work), and the points are sorted by number
    in stable 16-bit passes, which numpy does by radix: one pass for up to 65,536 series.
    When some series' points are not already in time order (clients that send in
    parallel), they are sorted by time first, in two more passes."""
    encoded = pc.dictionary_encode(
        series.combine_chunks() if isinstance(series, pa.ChunkedArray) else series
    )
    ranks = numbers(encoded.indices, np.uint32)
    count = len(encoded.dictionary)
    order = _by_rank(ranks, count, None)
    in_time, ranked = times[order], ranks[order]
    same = ranked[1:] == ranked[:-1]
    if ((in_time[1:] < in_time[:-1]) & same).any():
        order = _by_rank(ranks, count, _time_order(times))
        in_time, ranked = times[order], ranks[order]
        same = ranked[1:] == ranked[:-1]
    starts = _starts(same)
    ids = numbers(encoded.dictionary, np.uint64)[ranked[starts[:-1]]]
    return order, ids, in_time, starts


def _starts(same: np.ndarray) -> np.ndarray:
    """Where each run starts, given whether each item equals the one before it (and the
    end)."""
    return np.append(np.flatnonzero(np.concatenate(([True], ~same))), len(same) + 1)


def _by_rank(ranks: np.ndarray, count: int, order: np.ndarray | None) -> np.ndarray:
    """``order`` (or the ranks as they lie) stably sorted by rank (``count`` of them), a
    16-bit pass at a time."""
    low = ranks.astype(np.uint16)
    if order is None:
        order = np.argsort(low, kind="stable")
    else:
        order = order[np.argsort(low[order], kind="stable")]
    if count > 1 << 16:
        high = (ranks >> np.uint32(16)).astype(np.uint16)
        order = order[np.argsort(high[order], kind="stable")]
    return order


def _time_order(times: np.ndarray) -> np.ndarray:
    """The order of ``times`` (stable): by radix when they span less than 2^32 ms."""
    span = times - times.min()
    if span.max() >= 1 << 32:
        return np.argsort(times, kind="stable")
    return _by_rank(span.astype(np.uint32), 1 << 32, None)


@dataclass(frozen=True, slots=True)
class Stored:
    """Points ordered series after series (series ``k`` from ``starts[k]``), and what a
    selection needs to make series of them."""

    identities: dict[int, Identity]
    ids: np.ndarray
    """Each series' identity."""
    times: np.ndarray
    stale: np.ndarray
    starts: np.ndarray
    matchers: list[Matcher]


def values_of(table: Table, points: pa.Table, role: SeriesRole) -> np.ndarray:
    """The value of each point in ``role`` (a gauge's or a sum's value, a histogram's or
    a summary's sum or count)."""
    if table in (Table.GAUGE, Table.SUM):
        as_int = pc.cast(points.column("ValueInt"), pa.float64())
        value = pc.coalesce(points.column("Value"), as_int)
    else:
        value = pc.cast(points.column("Sum" if role is SeriesRole.SUM else "Count"), pa.float64())
    return numbers(value.fill_null(np.nan), np.float64)


def packed(stored: Stored, name: str, values: np.ndarray) -> Selection:
    """The series named ``name`` that ``matchers`` accept, from points ordered series
    after series (each series starting at ``starts``), packed as they lie. A delta
    series' values add up to running totals."""
    starts, times, stale = stored.starts, stored.times, stored.stale
    lengths = np.diff(starts)
    labels: list[Labels] = []
    keep = np.zeros(len(lengths), dtype=bool)
    delta = np.zeros(len(lengths), dtype=bool)
    for row, series in enumerate(stored.ids.tolist()):
        identity = stored.identities.get(series)
        if identity is None:
            continue
        named = with_name(identity.labels, name)
        if accepts(named, stored.matchers):
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


def accepts(labels: Labels, matchers: list[Matcher]) -> bool:
    if not matchers:
        return True
    found = dict(labels)
    return all(m.matches(found.get(m.name, "")) for m in matchers)


def buckets(points: pa.Table, stored: Stored, name: str) -> Selection:
    """A ``_bucket`` series per bound, the counts made cumulative over the bounds."""
    counts_list = points.column("BucketCounts").combine_chunks()
    bounds_list = points.column("ExplicitBounds").combine_chunks()
    lengths = numbers(pc.list_value_length(counts_list).fill_null(0))
    counts = numbers(pc.list_flatten(counts_list), np.float64)
    bounds = numbers(pc.list_flatten(bounds_list), np.float64)
    point = np.repeat(np.arange(len(lengths)), lengths)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    position = np.arange(len(counts)) - offsets[point]
    # The last bucket of a point is above its last bound: +Inf.
    bound_lengths = numbers(pc.list_value_length(bounds_list).fill_null(0))
    bound_offsets = np.concatenate(([0], np.cumsum(bound_lengths)))
    is_last = position >= bound_lengths[point]
    own_bound = np.minimum(bound_offsets[point] + position, max(len(bounds) - 1, 0))
    le = np.where(is_last, np.inf, bounds[own_bound] if len(bounds) else np.inf)
    running = np.cumsum(counts)
    cumulative = running - np.concatenate(([0.0], running))[offsets[point]]
    return _per_item(stored, name, "le", lengths, le, cumulative, adds_up=True)


def quantiles(points: pa.Table, stored: Stored, name: str) -> Selection:
    """A summary's series per quantile (``quantile="0.99"``)."""
    items = points.column("ValueAtQuantiles").combine_chunks()
    lengths = numbers(pc.list_value_length(items).fill_null(0))
    flat = pc.list_flatten(items)
    quantiles = numbers(pc.struct_field(flat, "Quantile"), np.float64)
    values = numbers(pc.struct_field(flat, "Value"), np.float64)
    return _per_item(stored, name, "quantile", lengths, quantiles, values)


def _per_item(
    stored: Stored,
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
    for series, (begin, end) in zip(stored.ids.tolist(), itertools.pairwise(starts), strict=True):
        identity = stored.identities.get(series)
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
            delta = adds_up and identity.delta
            uneven += _by_key(stored, base, label, keys, values, offsets, begin, end, delta)
            continue
        block = values[first:last].reshape(points, width).T
        if adds_up and identity.delta:
            block = np.cumsum(block, axis=1)
        times, stale = stored.times[begin:end], stored.stale[begin:end]
        for column, key in enumerate(block_keys[0].tolist()):
            named = with_label(base, label, format_value(key))
            if accepts(named, stored.matchers):
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
    kept = [s for s in uneven if accepts(s.labels, stored.matchers)]
    return Selection.joined([even, Selection.of(kept)])


def _by_key(
    stored: Stored,
    base: Labels,
    label: str,
    keys: np.ndarray,
    values: np.ndarray,
    offsets: np.ndarray,
    begin: int,
    end: int,
    delta: bool,
) -> list[RawSeries]:
    """The items of one stored series' points (``begin`` to ``end``) whose keys differ
    from point to point: a series per key, each in time order; a ``delta`` series' values
    add up."""
    first, last = offsets[begin], offsets[end]
    point = np.repeat(np.arange(begin, end), np.diff(offsets[begin : end + 1]))
    found = []
    item_keys, item_values = keys[first:last], values[first:last]
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

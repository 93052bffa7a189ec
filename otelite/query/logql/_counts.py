"""Counting lines in the database: ``sum by (labels) (count_over_time(...))`` and its kin
(``rate``, ``bytes_over_time``, ``bytes_rate``), the shape of Grafana's log volume and
of most dashboards, without reading a line into Python.

It applies when nothing but ``drop`` and ``keep`` runs after the filters SQL applies
(``split_query``), and every label grouped by is one ``_label_sql`` offers. One
statement counts the lines (and their bytes) per group of what the labels are made of
and per pair of time buckets: with windows ``(e_k - range, e_k]`` at ends
``e_k = e_0 + k * step``, a line at ``t`` falls in bucket ``a``, the first window end
at or after it, and bucket ``b``, the first window *start* at or after it. The lines of
window ``k`` are those with ``a <= k`` less those with ``b <= k``: two running sums over
the steps, whatever the range and the step (a range that is no multiple of the step
included), exact to the nanosecond.

Python then labels each group. The groups the labels doubt are left out and described
(``SqlCounts.rest``): the caller reads those records in Python and adds them up, so
that every line is counted once, by the one definition of its labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from otelite.query._compile import compile_plan
from otelite.query._plan import (
    And,
    Call,
    Column,
    Compare,
    Literal,
    Op,
    Or,
    Output,
    Predicate,
    Select,
    Table,
    TimeRange,
)
from otelite.query.logql._ast import Drop, Keep, RangeAggregation
from otelite.query.logql._entries import Labels
from otelite.query.logql._enums import RangeFunction
from otelite.query.logql._keysets import Keysets, keyset_hash, keysets
from otelite.query.logql._label_sql import GroupedLabel, grouped_label
from otelite.query.logql._read import ReadStats
from otelite.query.logql._select import split_query
from otelite.query.logql._volume import LINE_BYTES
from otelite.query.promql import Budget, Vector
from otelite.storage import Storage

__all__ = ["COUNTED", "SqlCounts", "count_in_sql"]

COUNTED = frozenset(
    {
        RangeFunction.COUNT_OVER_TIME,
        RangeFunction.RATE,
        RangeFunction.BYTES_OVER_TIME,
        RangeFunction.BYTES_RATE,
    }
)
_BYTES = frozenset({RangeFunction.BYTES_OVER_TIME, RangeFunction.BYTES_RATE})
_PER_SECOND = frozenset({RangeFunction.RATE, RangeFunction.BYTES_RATE})
_MAX_DOUBTED_KEYSETS = 200  # past this, the records in doubt are too many to name


@dataclass(frozen=True, slots=True)
class SqlCounts:
    """What the database counted, and the records it left to Python (None: none)."""

    vector: Vector
    rest: Predicate | None


def count_in_sql(
    storage: Storage,
    aggregation: RangeAggregation,
    by: tuple[str, ...],
    steps: npt.NDArray[np.int64],
    *,
    budget: Budget,
    stats: ReadStats,
) -> SqlCounts | None:
    """``sum by (by) (aggregation)`` at ``steps``, counted in SQL; None when SQL cannot
    count it."""
    source = aggregation.source
    if (
        aggregation.function not in COUNTED
        or aggregation.grouping is not None
        or source.unwrap is not None
    ):
        return None
    part = split_query(source.query)
    stages = [stage for stage in part.stages if isinstance(stage, Drop | Keep)]
    if len(stages) != len(part.stages):
        return None
    names = tuple(sorted(set(by)))
    labels: list[GroupedLabel] = []
    for name in names:
        found = grouped_label(name)
        if found is None:
            return None
        labels.append(found.staged(name, stages))
    budget.check_time()
    ends = steps - source.offset_ns
    range_ns = source.range_ns
    step = int(ends[1] - ends[0]) if len(ends) > 1 else range_ns
    before = math.ceil(range_ns / step)  # steps back to a bucket origin before every line
    first_start = int(ends[0]) - range_ns + 1
    time = TimeRange(first_start, int(ends[-1]) + 1)
    keyed = any(doubt.keys is not None for label in labels for doubt in label.doubts)
    typed = any(label.typed for label in labels)
    columns = [expr for label in labels for expr in label.outputs]
    if keyed:
        columns.append(keyset_hash(typed=typed))
    outputs = [Output(f"g{i}", expr) for i, expr in enumerate(columns)]
    origin = int(ends[0]) + 1 - before * step
    # A range that is a multiple of the step puts window starts on window ends: one
    # bucket of the two is the other's.
    buckets = ("a",) if origin == first_start else ("a", "b")
    outputs.append(Output("a", _bucket(origin, step)))
    if len(buckets) == 2:
        outputs.append(Output("b", _bucket(first_start, step)))
    outputs.append(Output("n", Call("count")))
    if aggregation.function in _BYTES:
        length = Call("as_double", (LINE_BYTES,))
        outputs.append(Output("bytes", Call("sum", (length,))))
    plan = Select(
        Table.LOGS,
        tuple(outputs),
        where=part.where,
        time=time,
        group_by=(*(f"g{i}" for i in range(len(columns))), *buckets),
    )
    statement = compile_plan(plan, storage.dialect)
    table = storage.query(statement.sql, statement.params, types=statement.types)
    stats.statements += 1
    groups, rows = _distinct(table, len(columns))
    known: dict[int, Keysets] = {}
    if keyed:
        wanted = _first_buckets(groups, rows, table.column("a").to_numpy(), origin, step, time)
        known = keysets(storage, wanted, typed=typed, where=part.where)
    labelled, rest = _labelled(labels, names, groups, known)
    if rest is not None and sum(len(h or ()) for _, _, h in rest) > _MAX_DOUBTED_KEYSETS:
        return None
    keys = sorted({key for key in labelled if key is not None})
    index: dict[Labels | None, int] = {key: i for i, key in enumerate(keys)}
    # A group in doubt counts nowhere here (its records are read in Python).
    group_of = np.array([index.get(key, len(keys)) for key in labelled], dtype=np.intp)
    group = group_of[rows]
    budget.spend((len(keys) + 1) * len(ends))
    a = np.clip(table.column("a").to_numpy() - before + 1, 0, len(ends)).astype(np.intp)
    b = np.clip(table.column(buckets[-1]).to_numpy() + 1, 0, len(ends)).astype(np.intp)
    count = table.column("n").to_numpy().astype(np.float64)
    stats.lines += int(count.sum())
    counted = _windows(group, len(keys) + 1, a, b, count, len(ends))[:-1]
    values = counted
    if aggregation.function in _BYTES:
        weights = table.column("bytes").to_numpy(zero_copy_only=False).astype(np.float64)
        stats.bytes += int(weights.sum())
        values = _windows(group, len(keys) + 1, a, b, weights, len(ends))[:-1]
    if aggregation.function in _PER_SECOND:
        values = values / (range_ns / 1e9)
    present = counted > 0
    vector = Vector.of(keys, np.where(present, values, 0.0), present)
    return SqlCounts(vector, None if rest is None else _rest_predicate(labels, rest, typed))


def _bucket(origin: int, width: int) -> Call:
    return Call("ns_bucket", (Column("Timestamp"), Literal(origin), Literal(width)))


def _distinct(table: pa.Table, width: int) -> tuple[list[tuple[object, ...]], npt.NDArray[np.intp]]:
    """The distinct values of the first ``width`` columns, and each row's among them."""
    if not width:
        return [()], np.zeros(table.num_rows, dtype=np.intp)
    dictionaries, indices = [], []
    for i in range(width):
        column = pc.dictionary_encode(table.column(f"g{i}"), null_encoding="encode")
        encoded = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        dictionaries.append(encoded.dictionary.to_pylist())
        indices.append(encoded.indices.to_numpy(zero_copy_only=False))
    distinct, rows = np.unique(np.stack(indices, axis=1), axis=0, return_inverse=True)
    groups = [
        tuple(d[i] for d, i in zip(dictionaries, row, strict=True)) for row in distinct.tolist()
    ]
    return groups, np.asarray(rows, dtype=np.intp).ravel()


def _hash(group: tuple[object, ...]) -> int:
    """A group's key set hash: its last value."""
    value = group[-1]
    assert isinstance(value, int)
    return value


def _first_buckets(
    groups: list[tuple[object, ...]],
    rows: npt.NDArray[np.intp],
    buckets: npt.NDArray[np.int64],
    origin: int,
    width: int,
    time: TimeRange,
) -> dict[int, TimeRange]:
    """Each key set hash (the groups' last value), with the time of the first bucket it
    was seen in."""
    first = np.full(len(groups), np.iinfo(np.int64).max)
    np.minimum.at(first, rows, buckets)
    found: dict[int, TimeRange] = {}
    for group, bucket in zip(groups, first.tolist(), strict=True):
        start = origin + bucket * width
        bounded = TimeRange(
            max(start, time.start or start), min(start + width, time.end or start + width)
        )
        h = _hash(group)
        if h not in found or (found[h].start or 0) > (bounded.start or 0):
            found[h] = bounded
    return found


_Doubted = list[tuple[int, int, frozenset[int] | None]]
"""(label, doubt, the key set hashes it doubts or None for all) that hit some group."""


def _labelled(
    labels: list[GroupedLabel],
    names: tuple[str, ...],
    groups: list[tuple[object, ...]],
    known: dict[int, Keysets],
) -> tuple[list[Labels | None], _Doubted | None]:
    """Each group's labels (None for one in doubt), and the doubts that hit."""
    doubted: dict[tuple[int, int], set[int] | None] = {}
    found: list[Labels | None] = []
    for group in groups:
        keys = known.get(_hash(group)) if known else None
        pairs: list[tuple[str, str]] = []
        start = 0
        in_doubt = False
        for i, (label, name) in enumerate(zip(labels, names, strict=True)):
            row = group[start : start + len(label.outputs)]
            start += len(label.outputs)
            for j, doubt in enumerate(label.doubts):
                if not doubt.holds(row):
                    continue
                if doubt.keys is None:
                    doubted[(i, j)] = None
                    in_doubt = True
                elif keys is not None and doubt.keys(keys):
                    hashes = doubted.setdefault((i, j), set())
                    if hashes is not None:
                        hashes.add(_hash(group))
                    in_doubt = True
            value = label.value(row)
            if value:
                pairs.append((name, value))
        found.append(None if in_doubt else tuple(pairs))
    if not doubted:
        return found, None
    hit = [(i, j, None if h is None else frozenset(h)) for (i, j), h in doubted.items()]
    return found, hit


def _rest_predicate(labels: list[GroupedLabel], doubted: _Doubted, typed: bool) -> Predicate:
    """The records in doubt, as SQL: what ``_labelled`` found, condition by condition."""
    hashed = keyset_hash(typed=typed)
    options: list[Predicate] = []
    for i, j, hashes in doubted:
        doubt = labels[i].doubts[j]
        parts: list[Predicate] = [] if doubt.when is None else [doubt.when]
        if hashes is not None:
            parts.append(Or(tuple(Compare(hashed, Op.EQ, h) for h in sorted(hashes))))
        options.append(parts[0] if len(parts) == 1 else And(tuple(parts)))
    return options[0] if len(options) == 1 else Or(tuple(options))


def _windows(
    group: npt.NDArray[np.intp],
    groups: int,
    a: npt.NDArray[np.intp],
    b: npt.NDArray[np.intp],
    weights: npt.NDArray[np.float64],
    steps: int,
) -> npt.NDArray[np.float64]:
    """Per group and step, the weight of the lines up to the window's end less those up
    to its start (bucket ``steps`` is past the last window)."""
    width = steps + 1
    size = groups * width
    upto_end = np.bincount(group * width + a, weights=weights, minlength=size)
    upto_start = np.bincount(group * width + b, weights=weights, minlength=size)
    ends = np.cumsum(upto_end.reshape(groups, width), axis=1)[:, :steps]
    starts = np.cumsum(upto_start.reshape(groups, width), axis=1)[:, :steps]
    return np.asarray(ends - starts, dtype=np.float64)

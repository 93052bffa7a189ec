"""How much a store holds per stream, as Loki's index tells it (``index/stats``,
``index/volume``, ``index/volume_range``), computed by the database.

Loki answers these from its index, chunk by chunk; otelite reads the records: one
statement groups the records in a time range that a selector picks, by stream and time
bucket, counting them and their lines' bytes (UTF-8, as ``bytes_over_time`` counts). A
stream is its labels (``_labels``), which the records' resource and scope decide, so the
database groups by those and Python turns each group into labels; a volume that asks
only for some labels' values (the selector's, or ``targetLabels``) groups by those
values (``label_value``) instead.

- **Stats**: distinct streams, records and bytes, exact; ``chunks`` is an estimate, since
  otelite keeps no chunks: one per stream for each two-hour window (Loki's default
  ``max_chunk_age``, aligned on the epoch) in which it has records.
- **Volume**: bytes per series, where a series is a stream's labels narrowed to the
  selector's label names (all of them for ``{}``) or to the target labels, whose streams
  must have them; by label instead (``aggregateBy=labels``), bytes per label name over
  the streams that have it. Each time bucket keeps its ``limit`` largest, as Loki does;
  a bucket is stamped at its end (Loki's ``ForInterval``: steps aligned on the epoch,
  each ending 1 ms before the next starts, the last at the range's end).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from otelite.query._compile import compile_plan
from otelite.query._plan import Call, Column, Literal, Output, Predicate, Select, Table, TimeRange
from otelite.query.logql._ast import Matcher
from otelite.query.logql._entries import Labels
from otelite.query.logql._enums import MatchOp
from otelite.query.logql._label_set import format_labels
from otelite.query.logql._records import RecordReader
from otelite.query.logql._select import label_value, selector_predicate
from otelite.query.promql import Budget
from otelite.storage import Storage

__all__ = [
    "CHUNK_SPAN_NS",
    "LINE_BYTES",
    "IndexStats",
    "VolumeBy",
    "VolumeSeries",
    "index_stats",
    "volume",
]

CHUNK_SPAN_NS = 2 * 3600 * 10**9
"""The time one estimated chunk covers: Loki's default ``max_chunk_age``."""
LINE_BYTES = Call("byte_length", (Column("Body"),))
"""A record's line's size in bytes, as Loki counts a line."""
_SPLIT_GAP_NS = 10**6
_IDENTITY = ("ResourceAttributes", "ScopeName")


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What ``index/stats`` answers."""

    streams: int = 0
    chunks: int = 0
    """An estimate: see the module's docstring."""
    entries: int = 0
    bytes: int = 0


class VolumeBy(enum.Enum):
    """What a volume adds up by: Loki's ``aggregateBy``."""

    SERIES = "series"
    LABELS = "labels"


@dataclass(frozen=True, slots=True)
class VolumeSeries:
    """One series of a volume: its labels (by label: the name with an empty value) and
    (bucket end in Unix ns, bytes) per bucket it has bytes in, oldest first."""

    labels: Labels
    points: tuple[tuple[int, int], ...]


def index_stats(
    storage: Storage, selector: Sequence[Matcher], time: TimeRange, budget: Budget | None = None
) -> IndexStats:
    """Streams, (estimated) chunks, records and bytes of what ``selector`` picks in
    ``time``."""
    rows = _stream_rows(storage, selector_predicate(selector), time, CHUNK_SPAN_NS)
    (budget or Budget()).check_time()
    streams: set[Labels] = set()
    chunks: set[tuple[Labels, int]] = set()
    entries = size = 0
    for labels, bucket, count, bytes_ in rows:
        streams.add(labels)
        chunks.add((labels, bucket))
        entries += count
        size += bytes_
    return IndexStats(len(streams), len(chunks), entries, size)


def volume(
    storage: Storage,
    selector: Sequence[Matcher],
    time: TimeRange,
    *,
    step_ns: int | None = None,
    target_labels: Sequence[str] = (),
    by: VolumeBy = VolumeBy.SERIES,
    limit: int = 100,
    budget: Budget | None = None,
) -> list[VolumeSeries]:
    """Bytes per series (or per label) of what ``selector`` picks in ``time``: in one
    bucket (``step_ns`` None: ``index/volume``), or per step (``index/volume_range``).
    Series come largest first (by their first bucket's bytes), then by their labels."""
    if time.start is None or time.end is None:
        raise ValueError("a volume is over a closed time range")
    targets = list(dict.fromkeys(target_labels))
    # Target labels the selector does not name must be present (Loki adds `=~".+"`).
    named = {m.name for m in selector}
    wanted = [*selector, *(Matcher(t, MatchOp.RE, ".+") for t in targets if t not in named)]
    where = selector_predicate(wanted)
    bucket_ns = step_ns or max(time.end - time.start, 1)
    names = targets or list(dict.fromkeys(m.name for m in selector))
    if by is VolumeBy.SERIES and names:
        rows = _value_rows(storage, where, time, bucket_ns, names)
    else:
        rows = _stream_rows(storage, where, time, bucket_ns)
    (budget or Budget()).check_time()
    buckets: dict[int, dict[Labels, int]] = defaultdict(lambda: defaultdict(int))
    for labels, bucket, _, size in rows:
        found = buckets[bucket if step_ns else 0]
        if by is VolumeBy.SERIES:
            found[tuple((n, v) for n, v in labels if not names or n in names)] += size
        else:
            for name, _value in labels:
                if not targets or name in targets:
                    found[((name, ""),)] += size
    series: dict[Labels, list[tuple[int, int]]] = defaultdict(list)
    for bucket, sizes in buckets.items():
        at = _stamp(bucket, step_ns, time.end)
        for labels, size in _largest(sizes, limit, by):
            series[labels].append((at, size))
    ordered = sorted(
        (VolumeSeries(labels, tuple(sorted(points))) for labels, points in series.items()),
        key=lambda s: (-s.points[0][1], _name(s.labels, by)),
    )
    return ordered


def _largest(sizes: dict[Labels, int], limit: int, by: VolumeBy) -> list[tuple[Labels, int]]:
    """A bucket's ``limit`` largest, ties by name (Loki's ``MapToVolumeResponse``)."""
    ranked = sorted(sizes.items(), key=lambda item: (-item[1], _name(item[0], by)))
    return ranked[:limit]


def _name(labels: Labels, by: VolumeBy) -> str:
    """How Loki names a volume: a label set as Prometheus writes it, or a label's name."""
    return labels[0][0] if by is VolumeBy.LABELS else format_labels(labels)


def _stamp(bucket: int, step_ns: int | None, end: int) -> int:
    """The time Loki gives a bucket's volume: its end, 1 ms before the next bucket's
    start, or the range's end for the last (and the only one, without a step)."""
    if step_ns is None:
        return end
    bucket_end = bucket + step_ns
    return end if bucket_end >= end else bucket_end - _SPLIT_GAP_NS


def _stream_rows(
    storage: Storage, where: Predicate | None, time: TimeRange, bucket_ns: int
) -> Iterable[tuple[Labels, int, int, int]]:
    """(stream labels, bucket, records, bytes) per stream and bucket."""
    keys = [Output(name, Column(name)) for name in _IDENTITY]
    reader = RecordReader()
    for row in _grouped(storage, keys, where, time, bucket_ns):
        stream = reader.stream(row["ResourceAttributes"], row["ScopeName"] or "")
        yield tuple(sorted(stream.items())), row["bucket"], row["entries"], row["bytes"]


def _value_rows(
    storage: Storage, where: Predicate | None, time: TimeRange, bucket_ns: int, names: list[str]
) -> Iterable[tuple[Labels, int, int, int]]:
    """(the labels ``names`` that records have, bucket, records, bytes) per distinct
    values of those labels and bucket."""
    keys = [Output(f"label{i}", label_value(name)) for i, name in enumerate(names)]
    for row in _grouped(storage, keys, where, time, bucket_ns):
        labels = tuple(
            sorted((n, row[k.name]) for k, n in zip(keys, names, strict=True) if row[k.name])
        )
        yield labels, row["bucket"], row["entries"], row["bytes"]


def _grouped(
    storage: Storage,
    keys: Sequence[Output],
    where: Predicate | None,
    time: TimeRange,
    bucket_ns: int,
) -> Iterable[dict[str, Any]]:
    """Records (``entries``) and their lines' ``bytes`` per value of ``keys`` and
    ``bucket`` (the start of each ``bucket_ns``, on the epoch)."""
    plan = Select(
        Table.LOGS,
        (
            *keys,
            Output("bucket", Call("time_bucket_ns", (Column("Timestamp"), Literal(bucket_ns)))),
            Output("entries", Call("count")),
            Output("bytes", Call("sum", (LINE_BYTES,))),
        ),
        where=where,
        time=time,
        group_by=(*(key.name for key in keys), "bucket"),
    )
    statement = compile_plan(plan, storage.dialect)
    table = storage.query(statement.sql, statement.params, types=statement.types)
    for row in table.to_pylist():
        row["bytes"] = int(row["bytes"] or 0)  # DuckDB sums to a decimal
        yield row

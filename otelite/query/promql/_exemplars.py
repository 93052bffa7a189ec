"""The exemplars of the series a PromQL query selects: from a metric to its traces.

OTLP points carry exemplars (a measurement with the trace and span it was taken in);
Prometheus serves them by series (``/api/v1/query_exemplars``), and Grafana draws them on
a graph with a link to the trace. An exemplar belongs to the series its point makes: a
gauge's or a counter's own series; for a histogram the ``_bucket`` series of the bucket
its value falls in (the lowest bound at or above it); for an exponential histogram its
one native histogram series; as Prometheus's OTLP receiver files them. Its labels are
``trace_id`` and ``span_id`` (hex) and the exemplar's filtered attributes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from otelite.query.promql._names import SeriesRole, label_name
from otelite.query.promql._selection import Matcher
from otelite.query.promql._series import NAME, Labels, format_value, labels_of
from otelite.query.promql._source import StorageSource, points_plan, time_range

__all__ = ["Exemplar", "exemplars"]

_NS_PER_MS = 1_000_000
_ROLES = frozenset({SeriesRole.VALUE, SeriesRole.BUCKET, SeriesRole.HISTOGRAM})


@dataclass(frozen=True, slots=True)
class Exemplar:
    labels: dict[str, str]
    value: float
    time_ms: int


def exemplars(
    source: StorageSource, matchers: Sequence[Matcher], start_ms: int, end_ms: int
) -> dict[Labels, list[Exemplar]]:
    """The exemplars in ``[start, end]`` of each series ``matchers`` select, in time
    order, by the series' labels."""
    others = [m for m in matchers if m.name != NAME]
    time = time_range(start_ms, end_ms)
    found: dict[Labels, list[Exemplar]] = {}
    for (table, metric), roles in source.wanted(matchers, _ROLES).items():
        identities = source.identities(table, metric, time)
        if not identities:
            continue
        points = source.rows(points_plan(table, metric, time, extra=("Exemplars",)))
        for point, item in _items(points):
            identity = identities.get(int(points.column("series")[point].as_py()))
            if identity is None or not start_ms <= item.time_ms <= end_ms:
                continue
            for name, role in roles:
                labels = {**dict(identity.labels), NAME: name}
                if role is SeriesRole.BUCKET:
                    bounds = points.column("ExplicitBounds")[point].as_py() or []
                    labels["le"] = format_value(_bucket_bound(bounds, item.value))
                if all(m.matches(labels.get(m.name, "")) for m in others):
                    found.setdefault(labels_of(labels), []).append(item)
    for items in found.values():
        items.sort(key=lambda e: e.time_ms)
    return found


def _items(points: pa.Table) -> list[tuple[int, Exemplar]]:
    """Each exemplar of the points, with the row of its point."""
    lists = points.column("Exemplars").combine_chunks()
    lengths = np.asarray(pc.list_value_length(lists).fill_null(0).to_numpy(zero_copy_only=False))
    owners = np.repeat(np.arange(len(lengths)), lengths)
    flat = pc.list_flatten(lists)

    def field(name: str) -> list[Any]:
        return pc.struct_field(flat, name).to_pylist()  # type: ignore[no-any-return]

    times = pc.struct_field(flat, "TimeUnix").cast(pa.int64()).to_pylist()
    doubles, ints = field("Value"), field("ValueInt")
    traces, spans, attributes = field("TraceId"), field("SpanId"), field("FilteredAttributes")
    found = []
    for n, row in enumerate(owners):
        value = doubles[n] if doubles[n] is not None else float(ints[n] or 0)
        labels = {label_name(k): str(v) for k, v in dict(attributes[n] or {}).items()}
        for raw, label in ((traces[n], "trace_id"), (spans[n], "span_id")):
            if raw:
                labels[label] = raw.hex()
        kept = {k: v for k, v in labels.items() if k and v}
        found.append((int(row), Exemplar(kept, float(value), int(times[n]) // _NS_PER_MS)))
    return found


def _bucket_bound(bounds: list[float], value: float) -> float:
    """The ``le`` of the bucket ``value`` falls in: the lowest bound at or above it."""
    return next((b for b in bounds if value <= b), float("inf"))

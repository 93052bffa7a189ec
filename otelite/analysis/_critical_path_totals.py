"""The critical path over many traces: which operations the traces' durations wait on.

Each trace's critical path (``_critical_path``) is split by operation, a (service, span
name) pair; an operation's *path time* is the time its spans spend on the paths of the
traces, and its *share* is that over the total length of the paths. Long traces weigh
more than short ones, as they should when the question is where the time of slow
requests goes. Time in gaps between a trace's top-level spans is no operation's
(``gap_ns``).

Two groups of traces are compared operation by operation (a selection and a baseline):
each operation's share in either and the difference, ranked by the selection's share.
Reading is bounded: ``spans_plan`` reads the spans of given traces only, within a margin
of a time range, up to a number of spans, whole traces first (see ``traces_of``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from otelite.analysis._critical_path import TraceSpans, critical_path
from otelite.query import (
    Call,
    Column,
    OneOf,
    Order,
    Output,
    Select,
    Table,
    TimeRange,
)
from otelite.types import TraceId

__all__ = [
    "OperationShare",
    "PathTotals",
    "TracesRead",
    "compare_totals",
    "path_totals",
    "spans_plan",
    "traces_of",
]

Operation = tuple[str, str]
"""(service, span name)."""


def spans_plan(trace_ids: Sequence[TraceId], time: TimeRange, *, max_spans: int) -> Select:
    """The spans of ``trace_ids`` that start in ``time``, each once, ordered by trace, at
    most ``max_spans + 1`` of them (one more tells that some were left out): columns
    ``trace_id``, ``span_id``, ``parent_id``, ``start_ns``, ``duration_ns``, ``service``,
    ``name``."""
    if not trace_ids:
        raise ValueError("spans_plan needs at least one trace id")
    return Select(
        Table.SPANS,
        (
            Output("trace_id", Column("TraceId")),
            Output("span_id", Column("SpanId")),
            Output("parent_id", Column("ParentSpanId")),
            Output("start_ns", Call("timestamp_to_ns", (Column("Timestamp"),))),
            Output("duration_ns", Column("Duration")),
            Output("service", Column("ServiceName")),
            Output("name", Column("SpanName")),
        ),
        where=OneOf("TraceId", tuple(trace_ids)),
        time=time,
        order_by=(Order("trace_id"),),
        limit=max_spans + 1,
        one_row_per=("TraceId", "SpanId"),
    )


@dataclass(frozen=True, slots=True)
class TracesRead:
    """The traces ``spans_plan`` read, each whole; ``cut`` when the spans read reached
    the bound, so that some of the traces asked for are not here."""

    traces: dict[TraceId, TraceSpans]
    cut: bool


def traces_of(rows: Sequence[dict[str, Any]], *, max_spans: int) -> TracesRead:
    """The rows of ``spans_plan`` as one ``TraceSpans`` per trace. Past ``max_spans`` rows,
    the trace of the first row left out may be missing spans: it is dropped, so every
    path is of a whole trace (the traces kept are those first by id, a choice
    independent of their shape)."""
    cut = len(rows) > max_spans
    if cut:
        # The trace of the first row past the bound may have more rows before it.
        partial = rows[max_spans]["trace_id"]
        rows = [row for row in rows[:max_spans] if row["trace_id"] != partial]
    columns: dict[TraceId, tuple[list[Any], ...]] = {}
    for row in rows:
        trace = columns.get(row["trace_id"])
        if trace is None:
            trace = columns[row["trace_id"]] = ([], [], [], [], [], [])
        ids, parents, starts, ends, services, names = trace
        ids.append(row["span_id"])
        parents.append(row["parent_id"] or b"")
        starts.append(row["start_ns"])
        ends.append(row["start_ns"] + max(0, row["duration_ns"]))
        services.append(row["service"] or "")
        names.append(row["name"] or "")
    traces = {trace_id: TraceSpans(*lists) for trace_id, lists in columns.items()}
    return TracesRead(traces, cut)


@dataclass(slots=True)
class PathTotals:
    """The critical paths of a group of traces, added up per operation."""

    traces: int = 0
    path_ns: int = 0
    """The paths' total length."""
    gap_ns: int = 0
    operation_ns: dict[Operation, int] = field(default_factory=dict)
    operation_traces: dict[Operation, int] = field(default_factory=dict)
    """In how many of the traces each operation is on the path."""
    examples: dict[Operation, tuple[TraceId, int]] = field(default_factory=dict)
    """For each operation, the trace where it spends the most time on the path, and that
    time: where to look at it (the first such trace by id on ties)."""

    def share(self, operation: Operation) -> float:
        return self.operation_ns.get(operation, 0) / self.path_ns if self.path_ns else 0.0

    def per_trace_ns(self, ns: int) -> float | None:
        """``ns`` of these traces' paths, per trace (None without traces)."""
        return ns / self.traces if self.traces else None


def path_totals(traces: Mapping[TraceId, TraceSpans]) -> PathTotals:
    """The critical path of each trace, added up per operation."""
    totals = PathTotals()
    for trace_id in sorted(traces):
        spans = traces[trace_id]
        path = critical_path(spans)
        if path is None:
            continue
        totals.traces += 1
        totals.path_ns += path.duration_ns
        totals.gap_ns += path.gap_ns
        in_trace: dict[Operation, int] = {}
        for span, ns in path.self_ns.items():
            operation = (spans.services[span], spans.names[span])
            in_trace[operation] = in_trace.get(operation, 0) + ns
        for operation, ns in in_trace.items():
            totals.operation_ns[operation] = totals.operation_ns.get(operation, 0) + ns
            totals.operation_traces[operation] = totals.operation_traces.get(operation, 0) + 1
            example = totals.examples.get(operation)
            if example is None or ns > example[1]:
                totals.examples[operation] = (trace_id, ns)
    return totals


@dataclass(frozen=True, slots=True)
class OperationShare:
    """One operation's part of the critical paths of the selection and of the baseline."""

    service: str
    name: str
    path_ns: int
    share: float
    traces: int
    baseline_path_ns: int
    baseline_share: float
    baseline_traces: int
    example: TraceId | None
    """The selection's trace where the operation spends the most time on the path, else
    the baseline's."""

    @property
    def difference(self) -> float:
        """The selection's share minus the baseline's."""
        return self.share - self.baseline_share


def compare_totals(selection: PathTotals, baseline: PathTotals) -> list[OperationShare]:
    """Every operation on either group's paths, by the selection's share (largest first),
    then by how much more of the selection's paths it takes than of the baseline's."""
    operations = set(selection.operation_ns) | set(baseline.operation_ns)
    found = [
        OperationShare(
            service=service,
            name=name,
            path_ns=selection.operation_ns.get((service, name), 0),
            share=selection.share((service, name)),
            traces=selection.operation_traces.get((service, name), 0),
            baseline_path_ns=baseline.operation_ns.get((service, name), 0),
            baseline_share=baseline.share((service, name)),
            baseline_traces=baseline.operation_traces.get((service, name), 0),
            example=_example((service, name), selection, baseline),
        )
        for service, name in operations
    ]
    found.sort(key=lambda o: (-o.path_ns, -o.difference, o.service, o.name))
    return found


def _example(operation: Operation, *groups: PathTotals) -> TraceId | None:
    for group in groups:
        found = group.examples.get(operation)
        if found is not None:
            return found[0]
    return None

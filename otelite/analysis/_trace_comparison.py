"""Trace comparison: two traces aligned by their structure, and what changed between them.

A span's path is the (service, operation) of every span from its trace's root down to it.
Spans with the same path are one node of the comparison, whose children are the paths one
step longer: two traces of one request line up node by node, whatever their span ids and
times. A span whose parent is not in the trace starts a path of its own, as a root.

At a node, the spans of each trace are matched in the order they start: the first of
trace a with the first of trace b, and so on. Spans left over are *added* (only in b) or
*missing* (only in a). The matched pairs say whether the node got *slower* or *faster*:
the sum of their duration differences (b - a), when it is at least ``SIGNIFICANT`` of
their duration in a. A node only in b is added, one only in a missing, and every node
below them too. For each node and trace the answer gives the count of spans, their total
duration and their self time (the part of a span's duration no child span covers).

Each trace is read whole, and at most ``COMPARED_MAX_SPANS`` of its spans (those starting first)
are compared; the answer says when a trace was cut.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

from otelite.types import ExportTraceServiceRequest

__all__ = [
    "COMPARED_MAX_SPANS",
    "SIGNIFICANT",
    "AlignedNode",
    "Change",
    "PathStats",
    "TraceComparison",
    "TraceSide",
    "compare_traces",
]

COMPARED_MAX_SPANS = 10_000
"""The spans of one trace a comparison reads at most (those starting first)."""
SIGNIFICANT = 0.1
"""The part of its duration in trace a by which a node's matched spans must change to
count as slower or faster."""

Step = tuple[str, str]
"""One step of a path: a span's service and operation (its name)."""

_ERROR = 2  # OTLP's STATUS_CODE_ERROR


class Change(enum.StrEnum):
    """What happened to a node between trace a and trace b."""

    ADDED = "added"
    MISSING = "missing"
    SLOWER = "slower"
    FASTER = "faster"
    SAME = "same"


@dataclass(frozen=True, slots=True)
class PathStats:
    """The spans of one trace at one node."""

    count: int
    total_ns: int
    self_ns: int
    errors: int


@dataclass(frozen=True, slots=True)
class AlignedNode:
    """One path of the aligned traces, with its spans in each (None: none there)."""

    path: tuple[Step, ...]
    a: PathStats | None
    b: PathStats | None
    change: Change
    added: int
    """Spans of b left over once matched with a's in start order."""
    missing: int
    delta_ns: int
    """The matched pairs' summed duration in b minus in a (0 when none is matched)."""


@dataclass(frozen=True, slots=True)
class TraceSide:
    """One of the two traces, as read."""

    spans: int
    duration_ns: int
    truncated: bool
    """More than ``COMPARED_MAX_SPANS`` spans: only those starting first were compared."""


@dataclass(frozen=True, slots=True)
class TraceComparison:
    """Both traces, and their nodes depth first (siblings in the order they start)."""

    a: TraceSide
    b: TraceSide
    nodes: tuple[AlignedNode, ...]


@dataclass(slots=True)
class _Span:
    span_id: bytes
    parent_id: bytes
    step: Step
    start: int
    end: int
    error: bool
    children: list[_Span] = field(default_factory=list)

    @property
    def duration(self) -> int:
        return max(0, self.end - self.start)

    def self_time(self) -> int:
        """The duration no child covers: the span minus the union of its children's
        intervals, each clipped to the span."""
        covered, reach = 0, self.start
        for child in sorted(self.children, key=lambda c: c.start):
            begin, end = max(child.start, reach), min(child.end, self.end)
            if end > begin:
                covered += end - begin
                reach = end
        return self.duration - covered


@dataclass(slots=True)
class _Node:
    """The spans of both traces at one path, and the child paths."""

    spans: tuple[list[_Span], list[_Span]] = field(default_factory=lambda: ([], []))
    children: dict[Step, _Node] = field(default_factory=dict)


def compare_traces(
    a: ExportTraceServiceRequest,
    b: ExportTraceServiceRequest,
    *,
    max_spans: int = COMPARED_MAX_SPANS,
) -> TraceComparison:
    """Trace ``a`` and trace ``b`` aligned by path (see the module docstring)."""
    tree = _Node()
    sides = []
    for side, trace in enumerate((a, b)):
        spans, truncated = _spans(trace, max_spans)
        for root in _roots(spans):
            _add(tree, root, side)
        start = min((s.start for s in spans), default=0)
        end = max((s.end for s in spans), default=0)
        sides.append(TraceSide(len(spans), max(0, end - start), truncated))
    nodes = tuple(_aligned(tree, ()))
    return TraceComparison(sides[0], sides[1], nodes)


def _spans(trace: ExportTraceServiceRequest, max_spans: int) -> tuple[list[_Span], bool]:
    found = []
    for resource_spans in trace.resource_spans:
        service = next(
            (
                kv.value.string_value
                for kv in resource_spans.resource.attributes
                if kv.key == "service.name"
            ),
            "",
        )
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                found.append(
                    _Span(
                        span.span_id,
                        span.parent_span_id,
                        (service, span.name),
                        span.start_time_unix_nano,
                        max(span.start_time_unix_nano, span.end_time_unix_nano),
                        span.status.code == _ERROR,
                    )
                )
    found.sort(key=lambda s: (s.start, s.span_id))
    # A span sent twice counts once.
    first: dict[bytes, _Span] = {}
    for each in found:
        first.setdefault(each.span_id, each)
    unique = list(first.values())
    return unique[:max_spans], len(unique) > max_spans


def _roots(spans: list[_Span]) -> list[_Span]:
    """Link children to parents (``spans`` in start order); the spans without a parent in
    the trace are roots."""
    by_id = {span.span_id: span for span in spans}
    roots = []
    for span in spans:
        parent = by_id.get(span.parent_id) if span.parent_id else None
        if parent is None or parent is span:
            roots.append(span)
        else:
            parent.children.append(span)
    reached = _below(roots)
    # No root reaches a cycle of parents (or what hangs below one): its earliest span
    # becomes a root, which breaks the cycle.
    for span in spans:
        if span.span_id not in reached:
            by_id[span.parent_id].children.remove(span)
            roots.append(span)
            reached |= _below([span])
    return roots


def _below(tops: list[_Span]) -> set[bytes]:
    """The ids of ``tops`` and of every span below them."""
    found: set[bytes] = set()
    stack = list(tops)
    while stack:
        span = stack.pop()
        found.add(span.span_id)
        stack.extend(span.children)
    return found


def _add(tree: _Node, root: _Span, side: int) -> None:
    # Iteratively: a trace may be thousands of spans deep.
    stack = [(tree, root)]
    while stack:
        parent, span = stack.pop()
        node = parent.children.setdefault(span.step, _Node())
        node.spans[side].append(span)
        stack.extend((node, child) for child in span.children)


def _aligned(tree: _Node, path: tuple[Step, ...]) -> Iterator[AlignedNode]:
    stack = [(path, tree)]
    while stack:
        at, node = stack.pop()
        if at:
            yield _compared(at, node)
        children = sorted(node.children.items(), key=lambda item: _first_start(item[1]))
        stack.extend(((*at, step), child) for step, child in reversed(children))


def _first_start(node: _Node) -> tuple[int, int]:
    """Siblings in the order they start: in trace a where they are, else in b."""
    for side in (0, 1):
        if node.spans[side]:
            return side, min(s.start for s in node.spans[side])
    return 2, 0


def _compared(path: tuple[Step, ...], node: _Node) -> AlignedNode:
    in_a, in_b = (sorted(spans, key=lambda s: s.start) for spans in node.spans)
    matched = min(len(in_a), len(in_b))
    delta = sum(y.duration - x.duration for x, y in zip(in_a, in_b, strict=False))
    before = sum(x.duration for x in in_a[:matched])
    if not in_a:
        change = Change.ADDED
    elif not in_b:
        change = Change.MISSING
    elif abs(delta) > 0 and abs(delta) >= SIGNIFICANT * before:
        change = Change.SLOWER if delta > 0 else Change.FASTER
    else:
        change = Change.SAME
    return AlignedNode(
        path=path,
        a=_stats(in_a),
        b=_stats(in_b),
        change=change,
        added=max(0, len(in_b) - len(in_a)),
        missing=max(0, len(in_a) - len(in_b)),
        delta_ns=delta,
    )


def _stats(spans: list[_Span]) -> PathStats | None:
    if not spans:
        return None
    return PathStats(
        count=len(spans),
        total_ns=sum(s.duration for s in spans),
        self_ns=sum(s.self_time() for s in spans),
        errors=sum(1 for s in spans if s.error),
    )

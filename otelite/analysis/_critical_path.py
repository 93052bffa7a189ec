"""The critical path of one trace: the chain of spans whose work its duration waits on.

The semantics are those of Jaeger's critical path. Walking back in time from the end of
the root span, the root is on the path until the moment its *last-finishing child*
(among the children that finish by then) finished; that child is then on the path, by the
same rule over its own children, back to its start; from there the walk continues in the
parent, back in time. Time a span spends with no child on the path is the span's own
work (a gap between children, the span's prologue and epilogue).

Before walking, each span's interval is clipped to its parent's, top down:

* a child that started before its parent counts from the parent's start;
* a child that outlives its parent (an asynchronous call the parent did not wait for)
  counts up to the parent's end only;
* a child entirely outside its parent (fire-and-forget work that started after the
  parent ended) is not on the path, nor is anything below it.

A span's *share* is its time on the path over the path's length. The path covers the
root span; with several top-level spans (more than one root, or spans whose parent never
arrived) it covers the first start to the last end among them: the walk picks the
last-finishing top-level span the same way, and time when no top-level span on the path
is working is a *gap* (a section without a span). Spans under a top-level span that
another one overlaps are therefore not on the path, as with siblings. Spans whose parent
chain loops never reach a top-level span and are left out; a span id sent twice counts
once (the first). Among children that finish at the same instant, the one that started
first (the longer) is taken.

Cost: sorting each span's children by end (O(n log n)) and one walk back that meets every
span at most once (O(n)), with no recursion, so deep traces cannot exhaust the stack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from otelite.types import ExportTraceServiceRequest, SpanId

__all__ = ["CriticalPath", "Section", "TraceSpans", "critical_path", "trace_spans"]


@dataclass(frozen=True, slots=True)
class TraceSpans:
    """One trace's spans as columns: index ``i`` of each sequence is span ``i``."""

    span_ids: Sequence[SpanId]
    parent_ids: Sequence[SpanId]
    """``b""`` for a span without a parent."""
    starts: Sequence[int]
    """Start times, Unix ns."""
    ends: Sequence[int]
    services: Sequence[str]
    names: Sequence[str]

    def __len__(self) -> int:
        return len(self.span_ids)


@dataclass(frozen=True, slots=True)
class Section:
    """``[start_ns, end_ns)`` of the path, spent in span ``span`` (an index into the
    ``TraceSpans``), or in no span (``None``) between top-level spans."""

    span: int | None
    start_ns: int
    end_ns: int


@dataclass(frozen=True, slots=True)
class CriticalPath:
    """A trace's critical path: ``sections`` in time order tile ``[start_ns, end_ns]``."""

    start_ns: int
    end_ns: int
    sections: tuple[Section, ...]
    self_ns: dict[int, int]
    """Each span on the path (by index): its time on the path, in ns."""
    roots: tuple[int, ...]
    """The top-level spans (by index), earliest first."""

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def gap_ns(self) -> int:
        """Time on the path when no top-level span was working."""
        return sum(s.end_ns - s.start_ns for s in self.sections if s.span is None)

    def share(self, span: int) -> float:
        """The span's time on the path over the path's length (0 for an empty path)."""
        length = self.duration_ns
        return self.self_ns.get(span, 0) / length if length > 0 else 0.0


def trace_spans(trace: ExportTraceServiceRequest) -> TraceSpans:
    """The spans of a trace as storage returns it (each span once), as columns."""
    span_ids: list[bytes] = []
    parent_ids: list[bytes] = []
    starts: list[int] = []
    ends: list[int] = []
    services: list[str] = []
    names: list[str] = []
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
                span_ids.append(span.span_id)
                parent_ids.append(span.parent_span_id)
                starts.append(span.start_time_unix_nano)
                ends.append(span.end_time_unix_nano)
                services.append(service)
                names.append(span.name)
    return TraceSpans(span_ids, parent_ids, starts, ends, services, names)


def critical_path(spans: TraceSpans) -> CriticalPath | None:
    """The critical path of one trace (see the module docstring); None when it has no
    top-level span (no spans, or parents that only loop)."""
    count = len(spans)
    starts = list(spans.starts)
    # A span that ends before it starts (a clock step) is taken as instantaneous.
    ends = [max(s, e) for s, e in zip(starts, spans.ends, strict=True)]
    first: dict[bytes, int] = {}
    for i, span_id in enumerate(spans.span_ids):
        first.setdefault(span_id, i)
    children: list[list[int]] = [[] for _ in range(count + 1)]
    tops: list[int] = []
    for i, parent_id in enumerate(spans.parent_ids):
        if first[spans.span_ids[i]] != i:
            continue  # a copy of a span already taken
        parent = first.get(parent_id) if parent_id else None
        if parent is None or parent == i:
            tops.append(i)
        else:
            children[parent].append(i)
    if not tops:
        return None
    tops.sort(key=lambda i: (starts[i], i))
    # Several top-level spans hang under a virtual root (index ``count``) spanning them.
    if len(tops) == 1:
        root = tops[0]
    else:
        root = count
        starts.append(min(starts[i] for i in tops))
        ends.append(max(ends[i] for i in tops))
        children[count] = tops
    _clip(root, starts, ends, children)
    sections = _walk(root, starts, ends, children)
    self_ns: dict[int, int] = {}
    found: list[Section] = []
    for node, start, end in reversed(sections):
        span = None if node == count else node
        if span is not None:
            self_ns[span] = self_ns.get(span, 0) + end - start
        if found and found[-1].span == span:
            # Back from an instantaneous child: one stretch of the same span.
            start = found.pop().start_ns
        found.append(Section(span, start, end))
    return CriticalPath(starts[root], ends[root], tuple(found), self_ns, tuple(tops))


def _clip(root: int, starts: list[int], ends: list[int], children: list[list[int]]) -> None:
    """Clip every span reachable from ``root`` to its parent, top down; drop the children
    entirely outside their parent; sort each span's children last-finishing first."""
    order = [root]
    for node in order:  # grows as it goes: breadth first
        low, high = starts[node], ends[node]
        kept = []
        for child in children[node]:
            start, end = max(starts[child], low), min(ends[child], high)
            if start > end:
                continue
            starts[child], ends[child] = start, end
            kept.append(child)
        kept.sort(key=lambda c: (-ends[c], starts[c]))
        children[node] = kept
        order.extend(kept)


def _walk(
    root: int, starts: list[int], ends: list[int], children: list[list[int]]
) -> list[tuple[int, int, int]]:
    """The path's sections ``(span, start, end)``, latest first.

    ``cut`` is how far back the path is known; ``next_child[span]`` is where the search
    for a span's last-finishing child resumes: the cut only moves back, so a child passed
    over once (finishing after the cut) never qualifies again, and each child is visited
    at most once.
    """
    next_child = [0] * len(children)
    sections: list[tuple[int, int, int]] = []
    waiting: list[int] = []  # the ancestors of ``node`` on the path, innermost last
    node, cut = root, ends[root]
    while True:
        kids = children[node]
        k = next_child[node]
        while k < len(kids) and ends[kids[k]] > cut:
            k += 1
        if k < len(kids):
            child = kids[k]
            next_child[node] = k + 1
            if ends[child] < cut:
                sections.append((node, ends[child], cut))
            waiting.append(node)
            node, cut = child, ends[child]
            continue
        next_child[node] = k
        if starts[node] < cut:
            sections.append((node, starts[node], cut))
        if not waiting:
            return sections
        node, cut = waiting.pop(), starts[node]

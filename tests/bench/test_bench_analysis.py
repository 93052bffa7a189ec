"""The bench's large trace: the size the critical-path target names, one tree under one
root, with children that overlap and outlive their parent as real batch jobs do."""

from __future__ import annotations

import itertools

from bench._analysis import BIG_TRACE_SPANS, big_trace

END = 1_760_000_000 * 10**9


def test_the_big_trace_is_one_tree_of_the_size_asked() -> None:
    request, trace_id = big_trace(END)
    spans = [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert len(spans) == BIG_TRACE_SPANS
    assert {s.trace_id for s in spans} == {trace_id}
    ids = {s.span_id for s in spans}
    assert len(ids) == BIG_TRACE_SPANS
    roots = [s for s in spans if not s.parent_span_id]
    assert len(roots) == 1
    assert all(s.parent_span_id in ids for s in spans if s.parent_span_id)
    assert all(s.start_time_unix_nano < s.end_time_unix_nano <= END for s in spans)
    root = roots[0]
    children = [s for s in spans if s.parent_span_id == root.span_id]
    assert any(s.end_time_unix_nano > root.end_time_unix_nano for s in children)
    overlapping = sorted(children, key=lambda s: s.start_time_unix_nano)
    assert any(
        b.start_time_unix_nano < a.end_time_unix_nano for a, b in itertools.pairwise(overlapping)
    )

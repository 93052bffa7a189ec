"""The critical path of one trace: hand-worked traces, and a naive reference on random ones."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from otelite.analysis import CriticalPath, TraceSpans, critical_path

# A span as tests write it: (id, parent id or "", start, end).
Row = tuple[str, str, int, int]


def spans(*rows: Row) -> TraceSpans:
    return TraceSpans(
        span_ids=[r[0].encode() for r in rows],
        parent_ids=[r[1].encode() for r in rows],
        starts=[r[2] for r in rows],
        ends=[r[3] for r in rows],
        services=["svc"] * len(rows),
        names=[r[0] for r in rows],
    )


def path_of(*rows: Row) -> CriticalPath:
    found = critical_path(spans(*rows))
    assert found is not None
    return found


def sections(path: CriticalPath, rows: Sequence[Row]) -> list[tuple[str | None, int, int]]:
    return [
        (None if s.span is None else rows[s.span][0], s.start_ns, s.end_ns) for s in path.sections
    ]


def self_times(path: CriticalPath, rows: Sequence[Row]) -> dict[str, int]:
    return {rows[i][0]: ns for i, ns in path.self_ns.items()}


def test_no_spans_no_path() -> None:
    assert critical_path(spans()) is None


def test_a_single_span_is_the_whole_path() -> None:
    rows = [("a", "", 10, 110)]
    path = path_of(*rows)
    assert sections(path, rows) == [("a", 10, 110)]
    assert (path.start_ns, path.end_ns, path.duration_ns) == (10, 110, 100)
    assert path.share(0) == 1.0


def test_sequential_children_take_turns_with_the_parent() -> None:
    rows = [("r", "", 0, 100), ("a", "r", 10, 40), ("b", "r", 40, 90)]
    path = path_of(*rows)
    # b ends at 90 (r works 90-100), a ends exactly where b starts.
    assert sections(path, rows) == [("r", 0, 10), ("a", 10, 40), ("b", 40, 90), ("r", 90, 100)]
    assert self_times(path, rows) == {"r": 20, "a": 30, "b": 50}
    assert path.share(2) == 0.5


def test_overlapped_children_are_skipped() -> None:
    rows = [
        ("r", "", 0, 100),
        ("a", "r", 10, 80),  # ends after c started: c waits on nothing of it
        ("b", "r", 20, 60),
        ("c", "r", 70, 95),
    ]
    path = path_of(*rows)
    # From 100 back: c (last to finish); from c's start (70), the last child finished by
    # then is b (60), not a (80); from b's start (20) no child finished: r itself.
    assert sections(path, rows) == [
        ("r", 0, 20),
        ("b", 20, 60),
        ("r", 60, 70),
        ("c", 70, 95),
        ("r", 95, 100),
    ]
    assert self_times(path, rows) == {"r": 35, "b": 40, "c": 25}


def test_children_outliving_their_parent_are_cut_at_its_end() -> None:
    rows = [
        ("r", "", 0, 100),
        ("p", "r", 10, 50),
        ("q", "p", 30, 200),  # async: outlives p and the root; counts up to p's end
        ("f", "r", 150, 300),  # fire and forget after r ended: not on the path
        ("g", "f", 160, 170),
    ]
    path = path_of(*rows)
    assert sections(path, rows) == [("r", 0, 10), ("p", 10, 30), ("q", 30, 50), ("r", 50, 100)]
    assert self_times(path, rows) == {"r": 60, "p": 20, "q": 20}


def test_children_starting_before_their_parent_count_from_its_start() -> None:
    rows = [("r", "", 0, 100), ("a", "r", 20, 60), ("b", "a", 10, 40)]
    path = path_of(*rows)
    assert sections(path, rows) == [("r", 0, 20), ("b", 20, 40), ("a", 40, 60), ("r", 60, 100)]


def test_nested_chains_alternate_between_levels() -> None:
    rows = [
        ("r", "", 0, 1000),
        ("a", "r", 100, 900),
        ("a1", "a", 150, 400),
        ("a2", "a", 450, 850),
        ("a21", "a2", 500, 700),
        ("b", "r", 50, 300),  # overlapped by a, which ends later
    ]
    path = path_of(*rows)
    assert sections(path, rows) == [
        ("r", 0, 100),
        ("a", 100, 150),
        ("a1", 150, 400),
        ("a", 400, 450),
        ("a2", 450, 500),
        ("a21", 500, 700),
        ("a2", 700, 850),
        ("a", 850, 900),
        ("r", 900, 1000),
    ]
    assert sum(path.self_ns.values()) == path.duration_ns == 1000


def test_several_top_level_spans_leave_gaps_between_them() -> None:
    rows = [
        ("r1", "", 0, 50),
        ("x", "r1", 10, 40),
        ("r2", "", 70, 100),
        ("o", "missing", 20, 30),  # its parent never arrived: top-level, overlapped by r1
    ]
    path = path_of(*rows)
    assert sections(path, rows) == [
        ("r1", 0, 10),
        ("x", 10, 40),
        ("r1", 40, 50),
        (None, 50, 70),
        ("r2", 70, 100),
    ]
    assert (path.duration_ns, path.gap_ns) == (100, 20)
    assert path.roots == (0, 3, 2)
    assert path.share(2) == 0.3


def test_a_span_sent_twice_counts_once() -> None:
    rows = [("r", "", 0, 100), ("a", "r", 10, 60), ("a", "r", 10, 60)]
    path = path_of(*rows)
    assert sections(path, rows) == [("r", 0, 10), ("a", 10, 60), ("r", 60, 100)]
    assert self_times(path, rows) == {"r": 50, "a": 50}


def test_instantaneous_children_do_not_split_or_loop() -> None:
    rows = [("r", "", 0, 10), ("z", "r", 5, 5), ("y", "r", 10, 10), ("w", "r", 10, 10)]
    path = path_of(*rows)
    assert sections(path, rows) == [("r", 0, 10)]
    assert self_times(path, rows) == {"r": 10}


def test_equal_ends_take_the_child_that_started_first() -> None:
    rows = [("r", "", 0, 100), ("late", "r", 50, 90), ("early", "r", 10, 90)]
    path = path_of(*rows)
    assert sections(path, rows) == [("r", 0, 10), ("early", 10, 90), ("r", 90, 100)]


def test_spans_in_a_parent_loop_are_left_out() -> None:
    rows = [("r", "", 0, 100), ("a", "b", 10, 90), ("b", "a", 20, 80), ("s", "s", 30, 40)]
    path = path_of(*rows)
    # a and b never reach a top-level span; s, its own parent, is one.
    assert [s for s, *_ in sections(path, rows)] == ["r"]
    assert path.roots == (0, 3)


def test_no_path_when_every_parent_chain_loops() -> None:
    assert critical_path(spans(("a", "b", 0, 10), ("b", "a", 2, 8))) is None


def test_a_span_ending_before_it_starts_is_instantaneous() -> None:
    rows = [("r", "", 0, 100), ("a", "r", 60, 40)]
    path = path_of(*rows)
    assert sections(path, rows) == [("r", 0, 100)]


def test_a_deep_trace_does_not_recurse() -> None:
    depth = 5000
    rows = [(f"s{i}", f"s{i - 1}" if i else "", i, 2 * depth - i) for i in range(depth)]
    path = path_of(*rows)
    assert len(path.sections) == 2 * depth - 1
    assert sum(path.self_ns.values()) == 2 * depth


# --- A naive reference, written from the rules in the module docstring -----------------


def reference(rows: Sequence[Row]) -> list[tuple[int | None, int, int]]:
    """Sections by recursion over the rules, choosing children by scanning them all."""
    virtual = -1  # the root over several top-level spans
    index: dict[str, int] = {}
    for i, (span_id, *_) in enumerate(rows):
        index.setdefault(span_id, i)
    start = {i: r[2] for i, r in enumerate(rows)}
    end = {i: max(r[2], r[3]) for i, r in enumerate(rows)}
    kids: dict[int, list[int]] = {i: [] for i in range(len(rows))}
    tops = []
    for i, (span_id, parent_id, *_) in enumerate(rows):
        if index[span_id] != i:
            continue
        parent = index.get(parent_id) if parent_id else None
        if parent is None or parent == i:
            tops.append(i)
        else:
            kids[parent].append(i)
    root = tops[0] if len(tops) == 1 else virtual
    if root == virtual:
        kids[virtual] = tops
        start[virtual] = min(start[i] for i in tops)
        end[virtual] = max(end[i] for i in tops)

    def clip(node: int) -> None:
        kept = []
        for child in kids[node]:
            s, e = max(start[child], start[node]), min(end[child], end[node])
            if s <= e:
                start[child], end[child] = s, e
                kept.append(child)
                clip(child)
        kids[node] = kept

    clip(root)
    out: list[tuple[int, int, int]] = []

    def walk(node: int, cut: int) -> None:
        used: set[int] = set()
        while True:
            ready = [c for c in kids[node] if c not in used and end[c] <= cut]
            if not ready:
                break
            child = max(ready, key=lambda c: (end[c], -start[c], -kids[node].index(c)))
            used.add(child)
            out.append((node, end[child], cut))
            walk(child, end[child])
            cut = start[child]
        out.append((node, start[node], cut))

    walk(root, end[root])
    merged: list[tuple[int | None, int, int]] = []
    for node, s, e in sorted((x for x in out if x[1] < x[2]), key=lambda x: x[1]):
        span = None if node == virtual else node
        if merged and merged[-1][0] == span and merged[-1][2] == s:
            merged[-1] = (span, merged[-1][1], e)
        else:
            merged.append((span, s, e))
    return merged


@st.composite
def random_traces(draw: st.DrawFn) -> list[Row]:
    count = draw(st.integers(1, 25))
    rows: list[Row] = []
    for i in range(count):
        parent = draw(
            st.one_of(
                st.just(""),
                st.just("gone"),
                st.sampled_from([f"s{j}" for j in range(i)]) if i else st.just(""),
            )
        )
        start = draw(st.integers(0, 60))
        end = start + draw(st.integers(-5, 60))
        rows.append((f"s{i}", parent, start, end))
    return rows


@settings(max_examples=300, deadline=None)
@given(random_traces())
def test_agrees_with_the_naive_reference(rows: list[Row]) -> None:
    path = path_of(*rows)
    found = [(s.span, s.start_ns, s.end_ns) for s in path.sections]
    expected = reference(rows)
    assert found == expected
    # The sections tile the path, and the self times add up to it.
    assert sum(e - s for _, s, e in found) == path.duration_ns
    assert sum(path.self_ns.values()) + path.gap_ns == path.duration_ns

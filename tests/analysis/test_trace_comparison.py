"""Two traces aligned by their (service, operation) paths, on hand-built traces.

The expected nodes are worked out by hand from the rule: spans with the same path are one
node, matched in start order between the traces; durations, self times (duration minus
what the children cover) and changes are computed here from the drawn timelines.
"""

from __future__ import annotations

from otelite.analysis import AlignedNode, PathStats, compare_traces
from tests.analysis.drawn import (
    CART,
    CHARGE,
    INSERT,
    MS,
    ORDER,
    PROVIDER,
    RECOMMEND,
    ROOT,
    A,
    B,
    S,
    trace,
)


def stats(count: int, total_ms: int, self_ms: int, errors: int = 0) -> PathStats:
    return PathStats(count, total_ms * MS, self_ms * MS, errors)


def test_two_traces_align_by_path() -> None:
    found = compare_traces(trace(A), trace(B, offset_ms=3_600_000))
    assert (found.a.spans, found.a.duration_ns, found.a.truncated) == (7, 100 * MS, False)
    assert (found.b.spans, found.b.duration_ns, found.b.truncated) == (8, 200 * MS, False)
    expected = [
        # root: self in a 100 - (10..30 + 30..90 + 90..95 = 85) = 15,
        # in b 200 - (10..15 + 30..190 = 165) = 35
        AlignedNode((ROOT,), stats(1, 100, 15), stats(1, 200, 35), "slower", 0, 0, 100 * MS),
        AlignedNode((ROOT, CART), stats(1, 20, 20), stats(1, 5, 5), "faster", 0, 0, -15 * MS),
        # PlaceOrder: a 60 - (10 + 10 + 25) = 15; b 160 - (40..70 = 30, 70..180 = 110) = 20
        AlignedNode((ROOT, ORDER), stats(1, 60, 15), stats(1, 160, 20), "slower", 0, 0, 100 * MS),
        # INSERTs matched in start order: 10/10 and 10/11; +1 ms of 20 is under 10%
        AlignedNode(
            (ROOT, ORDER, INSERT), stats(2, 20, 20), stats(3, 30, 30), "same", 1, 0, 1 * MS
        ),
        AlignedNode(
            (ROOT, ORDER, CHARGE), stats(1, 25, 25), stats(1, 110, 10), "slower", 0, 0, 85 * MS
        ),
        AlignedNode((ROOT, ORDER, CHARGE, PROVIDER), None, stats(1, 100, 100, 1), "added", 1, 0, 0),
        AlignedNode((ROOT, RECOMMEND), stats(1, 5, 5), None, "missing", 0, 1, 0),
    ]
    assert list(found.nodes) == expected


def test_repeated_siblings_match_in_start_order() -> None:
    # a retries twice (10 ms, then 30 ms); b once (30 ms): b's one attempt pairs with a's
    # first, so the node is 20 ms slower and one span is missing.
    a = [
        S(1, 0, "pay", "Charge", 0, 50),
        S(2, 1, "pay", "POST", 5, 15),
        S(3, 1, "pay", "POST", 15, 45),
    ]
    b = [S(1, 0, "pay", "Charge", 0, 40), S(3, 1, "pay", "POST", 5, 35)]
    found = compare_traces(trace(a), trace(b))
    post = found.nodes[1]
    assert post.path == (("pay", "Charge"), ("pay", "POST"))
    assert (post.change, post.missing, post.added, post.delta_ns) == ("slower", 1, 0, 20 * MS)
    assert post.a == stats(2, 40, 40)
    assert post.b == stats(1, 30, 30)


def test_orphans_cycles_and_duplicates() -> None:
    spans = [
        S(1, 0, "web", "GET", 0, 10),
        S(2, 99, "web", "orphan", 1, 2),  # parent never arrived: a root of its own
        S(3, 4, "web", "loop", 3, 4),  # 3 → 4 → 3: the earliest becomes a root
        S(4, 3, "web", "loop2", 5, 6),
        S(1, 0, "web", "GET", 0, 10),  # sent twice
    ]
    found = compare_traces(trace(spans), trace(spans[:1]))
    assert found.a.spans == 4
    assert [n.path for n in found.nodes] == [
        (("web", "GET"),),
        (("web", "orphan"),),
        (("web", "loop"),),
        (("web", "loop"), ("web", "loop2")),
    ]
    assert [n.change for n in found.nodes] == ["same", "missing", "missing", "missing"]


def test_a_long_trace_is_cut_and_says_so() -> None:
    # A chain 5 000 deep: read iteratively, cut to the 100 that start first.
    chain = [S(n, n - 1, "svc", "step", n, 10_000 - n) for n in range(1, 5_001)]
    found = compare_traces(trace(chain), trace(chain[:10]), max_spans=100)
    assert (found.a.spans, found.a.truncated, found.b.truncated) == (100, True, False)
    assert len(found.nodes) == 100
    assert [n.change for n in found.nodes] == ["same"] * 10 + ["missing"] * 90
    # Each of the first 99 has one child covering all but 2 ms of it (1 ms at each end).
    assert found.nodes[0].a == stats(1, 9_998, 2)

"""Critical paths added up per operation, and the bound on the spans read."""

from __future__ import annotations

from typing import Any

import pytest

from otelite.analysis import compare_totals, path_totals, traces_of


def row(trace: str, span: str, parent: str, start: int, duration: int, name: str) -> dict[str, Any]:
    return {
        "trace_id": trace.encode(),
        "span_id": span.encode(),
        "parent_id": parent.encode() if parent else None,
        "start_ns": start,
        "duration_ns": duration,
        "service": "svc",
        "name": name,
    }


ROWS = [
    row("t1", "a", "", 0, 100, "root"),
    row("t1", "b", "a", 20, 50, "db"),
    row("t2", "c", "", 0, 10, "root"),
    row("t3", "d", "", 0, 40, "root"),
    row("t3", "e", "d", 0, 40, "db"),
]


def test_every_trace_read_whole() -> None:
    read = traces_of(ROWS, max_spans=5)
    assert not read.cut
    assert sorted(read.traces) == [b"t1", b"t2", b"t3"]
    assert list(read.traces[b"t1"].ends) == [100, 70]
    assert list(read.traces[b"t2"].parent_ids) == [b""]


@pytest.mark.parametrize(("bound", "kept"), [(4, [b"t1", b"t2"]), (3, [b"t1", b"t2"]), (1, [])])
def test_past_the_bound_the_last_trace_read_goes(bound: int, kept: list[bytes]) -> None:
    # The plan asks for one row more than the bound: here the rows past it are given too.
    read = traces_of(ROWS, max_spans=bound)
    assert read.cut
    assert sorted(read.traces) == kept


def test_totals_and_comparison() -> None:
    read = traces_of(ROWS, max_spans=10)
    selection = path_totals({t: read.traces[t] for t in (b"t1", b"t3")})
    baseline = path_totals({b"t2": read.traces[b"t2"]})
    # t1: root 50, db 50; t3: db 40 (it covers its root).
    assert (selection.traces, selection.path_ns) == (2, 140)
    assert selection.operation_ns == {("svc", "root"): 50, ("svc", "db"): 90}
    assert selection.operation_traces == {("svc", "root"): 1, ("svc", "db"): 2}
    # db: 50 in t1, 40 in t3.
    assert selection.examples == {("svc", "root"): (b"t1", 50), ("svc", "db"): (b"t1", 50)}
    ranked = compare_totals(selection, baseline)
    assert [(o.name, o.path_ns, o.baseline_path_ns) for o in ranked] == [
        ("db", 90, 0),
        ("root", 50, 10),
    ]
    assert ranked[1].difference == pytest.approx(50 / 140 - 1.0)
    assert [o.example for o in ranked] == [b"t1", b"t1"]
    only_baseline = compare_totals(baseline, selection)
    assert [(o.name, o.example) for o in only_baseline] == [("root", b"t2"), ("db", b"t1")]

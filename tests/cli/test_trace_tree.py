"""The span tree: nesting, order, orphans, cycles and bad timestamps."""

from __future__ import annotations

from otelite._cli._trace import Span, spans_of, tree_rows

MS = 1_000_000


def span(span_id: str, parent: str = "", start: int = 1, end: int = 2, name: str = "") -> Span:
    return Span(span_id, parent, name or span_id, "svc", start * MS, end * MS, "unset")


def names(spans: list[Span], trace_start: int = MS) -> list[str]:
    return [row[0] for row in tree_rows(spans, trace_start)]


def test_children_are_nested_in_start_order() -> None:
    spans = [
        span("c", "a", start=5),
        span("a"),
        span("b", "a", start=3),
        span("d", "b", start=4),
        span("e", "d", start=4),
    ]
    assert names(spans) == ["a", "├─ b", "│  └─ d", "│     └─ e", "└─ c"]


def test_a_span_whose_parent_is_missing_is_a_root() -> None:
    assert names([span("a"), span("x", "gone", start=0)]) == ["x", "a"]


def test_a_parent_cycle_shows_every_span_once() -> None:
    rows = names([span("a", "b"), span("b", "a"), span("c", "c")])
    assert sorted(rows) == ["a", "b", "c"]


def test_deep_traces_do_not_recurse() -> None:
    chain = [span("0")] + [span(str(i), str(i - 1)) for i in range(1, 3000)]
    rows = names(chain)
    assert len(rows) == 3000
    assert rows[-1].endswith("└─ 2999")


def test_bad_timestamps_show_no_duration() -> None:
    rows = list(tree_rows([span("a", start=5, end=3), span("b", start=0, end=2)], 5 * MS))
    assert [(r[0], r[2], r[3]) for r in rows] == [("b", "-", "-"), ("a", "+0", "-")]


def test_spans_of_reads_tempo_batches() -> None:
    document = {
        "batches": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "api"}}]
                },
                "instrumentationLibrarySpans": [
                    {
                        "spans": [
                            {
                                "spanId": "AAECAwQFBgc=",
                                "name": "GET",
                                "startTimeUnixNano": 10,
                                "endTimeUnixNano": "30",
                                "status": {"code": "STATUS_CODE_ERROR", "message": "boom"},
                            }
                        ]
                    }
                ],
            }
        ]
    }
    (only,) = spans_of(document)
    assert (only.name, only.service, only.start, only.end) == ("GET", "api", 10, 30)
    assert only.status == "error: boom"

"""The tail sampler's log: what a restart holds again, and that it shrinks as traces are
settled (segments are deleted whole)."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.pipeline._sampling_log import Decision, SamplingLog
from otelite.types import ExportTraceServiceRequest


def piece(trace: int, span: int) -> bytes:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.append(
        Span(trace_id=trace.to_bytes(16, "big"), span_id=span.to_bytes(8, "big"), name="x" * 200)
    )
    return request.SerializeToString()


def held(log: SamplingLog) -> list[tuple[int, str, int]]:
    _, records = log.replay()
    return [(r.seq, r.tenant, int.from_bytes(r.trace_id, "big")) for r in records]


def segments(directory: Path) -> int:
    return len(list(directory.glob("*.wal")))


def test_a_restart_holds_again_exactly_the_unsettled_pieces(tmp_path: Path) -> None:
    log = SamplingLog(tmp_path)
    assert log.hold([("a", piece(1, 1)), ("b", piece(1, 2)), ("a", piece(2, 3))]) == [1, 2, 3]
    # Trace 1 of tenant a settled through its piece 1; then it gets one more piece (4).
    log.settle([Decision("a", (1).to_bytes(16, "big"), 1, True)], [1])
    assert log.hold([("a", piece(1, 4))]) == [4]
    reopened = SamplingLog(tmp_path)
    assert held(reopened) == [(2, "b", 1), (3, "a", 2), (4, "a", 1)]
    decisions, _ = SamplingLog(tmp_path).replay()
    assert decisions == [Decision("a", (1).to_bytes(16, "big"), 1, True)]


def test_settled_segments_are_deleted_and_a_clean_close_empties_the_log(tmp_path: Path) -> None:
    log = SamplingLog(tmp_path, held_segment_bytes=1000, decided_segment_bytes=100)
    # About 250 bytes a record: four records to a segment.
    seqs = log.hold([("t", piece(n, n)) for n in range(1, 5)])
    seqs += log.hold([("t", piece(n, n)) for n in range(5, 9)])
    seqs += log.hold([("t", piece(n, n)) for n in range(9, 13)])
    assert segments(tmp_path / "held") == 3
    # Settling traces 1-4 frees the first segment; settling 9-12 frees nothing yet (5-8
    # come first), whatever order.
    for n in (*range(9, 13), *range(1, 5)):
        log.settle([Decision("t", n.to_bytes(16, "big"), seqs[n - 1], False)], [seqs[n - 1]])
    assert segments(tmp_path / "held") == 2
    assert [trace for _, _, trace in held(SamplingLog(tmp_path))] == [5, 6, 7, 8]
    for n in range(5, 9):
        log.settle([Decision("t", n.to_bytes(16, "big"), seqs[n - 1], True)], [seqs[n - 1]])
    log.close()
    assert segments(tmp_path / "held") == 0
    assert segments(tmp_path / "decided") == 0

"""The tail sampler's log: what a restart holds again, which decisions come back with it,
and that it shrinks as requests are settled (segments are deleted whole)."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.pipeline._sampling_log import Decision, SamplingLog
from otelite.types import ExportTraceServiceRequest


def trace_id(trace: int) -> bytes:
    return trace.to_bytes(16, "big")


def request(trace: int, span: int) -> bytes:
    built = ExportTraceServiceRequest()
    built.resource_spans.add().scope_spans.add().spans.append(
        Span(trace_id=trace_id(trace), span_id=span.to_bytes(8, "big"), name="x" * 200)
    )
    return built.SerializeToString()


def held(log: SamplingLog) -> list[tuple[int, str, int]]:
    """(sequence, tenant, first span's id) of each request held again."""
    _, records = log.replay()
    found = []
    for record in records:
        span = ExportTraceServiceRequest.FromString(record.payload).resource_spans[0]
        found.append(
            (record.seq, record.tenant, int.from_bytes(span.scope_spans[0].spans[0].span_id, "big"))
        )
    return found


def segments(directory: Path) -> int:
    return len(list(directory.glob("*.wal")))


def test_a_restart_holds_again_exactly_the_unsettled_requests(tmp_path: Path) -> None:
    log = SamplingLog(tmp_path)
    sent = [("a", request(1, 1)), ("b", request(1, 2)), ("a", request(2, 3))]
    assert log.hold(sent) == [1, 2, 3]
    log.settle([1], [Decision("a", trace_id(1), True)])
    assert log.hold([("a", request(1, 4))]) == [4]
    reopened = SamplingLog(tmp_path)
    assert held(reopened) == [(2, "b", 2), (3, "a", 3), (4, "a", 4)]
    decisions, records = SamplingLog(tmp_path).replay()
    assert decisions == [Decision("a", trace_id(1), True)]
    # Held as received, byte for byte.
    assert [record.payload for record in records] == [sent[1][1], sent[2][1], request(1, 4)]


def test_settled_segments_are_deleted_and_a_clean_close_empties_the_log(tmp_path: Path) -> None:
    log = SamplingLog(tmp_path, held_segment_bytes=1000, settled_segment_bytes=100)
    # About 250 bytes a record: four records to a segment.
    seqs = log.hold([("t", request(n, n)) for n in range(1, 5)])
    seqs += log.hold([("t", request(n, n)) for n in range(5, 9)])
    seqs += log.hold([("t", request(n, n)) for n in range(9, 13)])
    assert segments(tmp_path / "held") == 3
    # Settling requests 1-4 frees the first segment; settling 9-12 frees nothing yet (5-8
    # come first), whatever order.
    for n in (*range(9, 13), *range(1, 5)):
        log.settle([seqs[n - 1]], [Decision("t", trace_id(n), False)])
    assert segments(tmp_path / "held") == 2
    assert [span for _, _, span in held(SamplingLog(tmp_path))] == [5, 6, 7, 8]
    for n in range(5, 9):
        log.settle([seqs[n - 1]], [Decision("t", trace_id(n), True)])
    log.close()
    assert segments(tmp_path / "held") == 0
    assert segments(tmp_path / "settled") == 0


def test_a_settlement_stays_while_requests_held_before_it_are_on_disk(tmp_path: Path) -> None:
    # Trace 1 is decided and its first request settled; its second request, held before
    # that, is not. After a restart the second request must follow the decision, so the
    # settlement outlives the segment of the request it names.
    log = SamplingLog(tmp_path, held_segment_bytes=1000, settled_segment_bytes=100)
    seqs = log.hold([("t", request(1, n)) for n in range(1, 5)])
    seqs += log.hold([("t", request(2, 5)), ("t", request(1, 6))])
    log.settle(seqs[:4], [Decision("t", trace_id(1), True)])
    assert segments(tmp_path / "held") == 1
    for _ in range(40):  # later settlements fill settled segments of their own
        extra = log.hold([("t", request(3, 7))])
        log.settle(extra, [Decision("t", trace_id(3), False)])
    decisions, records = SamplingLog(tmp_path).replay()
    assert Decision("t", trace_id(1), True) in decisions
    assert [record.seq for record in records] == seqs[4:]

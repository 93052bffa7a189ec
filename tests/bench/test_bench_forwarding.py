"""The forwarding bench's file is a valid pipeline file, and its target is judged from
one run's own figures: delivered over acknowledged spans/s, every span arrived, the queue
emptied in time."""

from __future__ import annotations

import httpx
from grpc import insecure_channel as grpc_channel
from opentelemetry.proto.collector.trace.v1.trace_service_pb2_grpc import TraceServiceStub

from bench._forwarding import ForwardingRun, ForwardRun, ForwardSeries, pipeline_file
from bench._report import render, targets
from bench._send import SendResult
from bench._sink import counting_receiver
from otelite.pipeline import parse_pipeline
from tests.bench.test_bench_report import results
from tests.pipeline.conftest import make_traces


def run(
    items: int, seconds: float, drained: float | None, arrived: int | None = None
) -> ForwardRun:
    sent = SendResult(items, items // 500, 0, 0, 100.0, 100.0 + seconds, "")
    got = items if arrived is None else arrived
    return ForwardRun(
        sent,
        stored_after=0.4,
        drained_after=drained,
        arrived_after=None if got < items else (drained or 0.0) + 0.3,
        arrived=got,
        queued_requests=12,
        queued_bytes=3 * 1024 * 1024,
        oldest_seconds=0.2,
    )


def judged(*runs: ForwardRun) -> tuple[bool | None, str, str]:
    found = results()
    found.forwarding = ForwardingRun([ForwardSeries("http/protobuf", 4, 100_000, list(runs))])
    [target] = [t for t in targets(found) if t.name.startswith("forwarding keeps up")]
    return target.passed, target.measured, target.gap


def test_the_destination_counts_what_it_takes_over_each_protocol() -> None:
    request = make_traces("bench", spans=7)
    with counting_receiver() as destination:
        http = parse_pipeline(pipeline_file("http/protobuf", destination)).exporters
        grpc = parse_pipeline(pipeline_file("grpc", destination)).exporters
        assert [(e.endpoint, e.protocol) for e in http] == [
            (f"http://127.0.0.1:{destination.http_port}", "http/protobuf")
        ]
        assert [(e.endpoint, e.protocol) for e in grpc] == [
            (f"http://127.0.0.1:{destination.grpc_port}", "grpc")
        ]
        answer = httpx.post(
            f"http://127.0.0.1:{destination.http_port}/v1/traces",
            content=request.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
            timeout=10,
        )
        assert answer.status_code == 200
        with grpc_channel(f"127.0.0.1:{destination.grpc_port}") as channel:
            TraceServiceStub(channel).Export(request, timeout=10)
        assert destination.items() == 14
        # A request a server would refuse is refused, and not counted.
        refused = httpx.post(
            f"http://127.0.0.1:{destination.http_port}/v1/traces",
            content=b"not protobuf",
            headers={"Content-Type": "application/x-protobuf"},
            timeout=10,
        )
        assert refused.status_code == 400
        assert destination.items() == 14


def test_forwarding_keeps_up_when_the_queue_empties_soon_after_the_last_ack() -> None:
    # 100,000 spans acknowledged in 2 s; delivered 2.05, 2.1 and 2.2 s after the start:
    # 2/2.05 = 0.976, 2/2.1 = 0.952, 2/2.2 = 0.909, the median 0.952 ≥ 0.95.
    passed, measured, _ = judged(
        run(100_000, 2.0, 0.05), run(100_000, 2.0, 0.1), run(100_000, 2.0, 0.2)
    )
    assert passed is True
    assert measured.startswith("0.95\u00d7: median of 3 run-by-run ratios; queue empty after 0.1 s")


def test_a_queue_that_trails_ingest_misses() -> None:
    # 2/2.5 = 0.8, 2/3 = 0.667, 2/2.2 = 0.909: the median 0.8.
    passed, measured, gap = judged(
        run(100_000, 2.0, 0.5), run(100_000, 2.0, 1.0), run(100_000, 2.0, 0.2)
    )
    assert passed is False
    assert measured.startswith("0.80\u00d7")
    assert "84% of the target" in gap


def test_missing_spans_or_a_slow_drain_miss_even_at_a_good_ratio() -> None:
    # One run of three lost spans: it counts 0, the others 0.976 and 0.952; median 0.952.
    passed, _, gap = judged(
        run(100_000, 2.0, 0.05), run(100_000, 2.0, 0.1), run(100_000, 2.0, 0.1, arrived=99_000)
    )
    assert passed is False and "spans missing at the destination" in gap
    # A long run: 100/103 = 0.971 passes the ratio, but 3 s to empty the queue is 1 s over.
    passed, _, gap = judged(*(run(1_000_000, 100.0, 3.0) for _ in range(3)))
    assert passed is False and "queue empty after 3.0 s (1.0 s over)" in gap
    # A queue never emptied.
    passed, measured, gap = judged(run(100_000, 2.0, None), run(100_000, 2.0, 0.1))
    assert passed is False and "queue not emptied" in gap and "never empty" in measured


def test_the_report_has_a_forwarding_section() -> None:
    found = results()
    assert "Forwarding to a local receiver\n\nNot run." in render(found)
    found.forwarding = ForwardingRun(
        [
            ForwardSeries(
                "grpc",
                4,
                100_000,
                [run(100_000, 2.0, 0.1), run(100_000, 2.0, None, arrived=99_500)],
            )
        ]
    )
    text = render(found)
    # The run that never drained is named; the other's figures are shown as they are:
    # 100,000 spans acknowledged in 2 s (50,000/s), delivered in 2.1 s (47,619/s), stored
    # at the destination 0.3 s after the queue emptied.
    assert (
        "| grpc | 50,000 (50,000\u201350,000) | 0.4 (0.4\u20130.4) "
        "| 12 requests, 3.0 MiB, oldest 0.2 s | 0.1; 1 not in 300 s "
        "| 47,619; 1 not in 300 s | 0.4; 1 not in 300 s "
    ) in text
    assert "Over grpc, not every span arrived: 99,500 of 100,000." in text

"""Forwarding between two real ``otelite serve`` processes: what the first acknowledged
reaches the second, across ``kill -9`` of either (with batches in flight too), and a dead
destination holds up neither ingest nor the other destination."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from otelite.otlp import decode_request_json
from otelite.types import ExportTraceServiceRequest, Signal
from tests.backends import BACKENDS
from tests.e2e.conftest import ServerProcess, free_port, storage_args, wait_for
from tests.pipeline.conftest import make_traces, tag_of

pytestmark = pytest.mark.slow

# The test requests carry timestamps of 2023: retention must keep them.
KEEP = ["--retention", "off"]
QUICK = """\
    retry: {initial_interval: 100ms, max_interval: 500ms}
    circuit_breaker: {failure_threshold: 3, cooldown: 1s}
"""


def send(server: ServerProcess, tag: str) -> None:
    """One OTLP/HTTP request; returns once acknowledged."""
    response = httpx.post(
        f"{server.otlp_http}/v1/traces",
        content=make_traces(tag, spans=3).SerializeToString(),
        headers={"Content-Type": "application/x-protobuf"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def tags_at(server: ServerProcess) -> set[str]:
    try:
        response = httpx.get(f"{server.url}/api/export", params={"signal": "traces"}, timeout=10)
    except httpx.TransportError:
        return set()
    response.raise_for_status()
    found = set()
    for line in filter(None, response.text.splitlines()):
        request = decode_request_json(Signal.TRACES, line)
        assert isinstance(request, ExportTraceServiceRequest)
        for resource in request.resource_spans:
            found.add(tag_of(ExportTraceServiceRequest(resource_spans=[resource])))
    return found


def destinations(server: ServerProcess) -> dict[str, dict[str, object]]:
    answer = httpx.get(f"{server.url}/api/forwarding", timeout=10).json()
    return {d["name"]: d for d in answer["destinations"]}


def all_arrived(forwarder: ServerProcess, destination: ServerProcess, tags: list[str]) -> None:
    """Wait until every one of ``tags`` is at the destination and the queue is empty."""
    wait_for(
        lambda: set(tags) <= tags_at(destination),
        timeout=60,
        what="every acknowledged request at the destination",
    )
    wait_for(
        lambda: destinations(forwarder)["peer"]["queuedRequests"] == 0,
        what="an empty queue",
    )


@pytest.mark.parametrize("kind", BACKENDS)
def test_nothing_acknowledged_is_lost_across_kill_9_of_either_side(
    tmp_path: Path, kind: str
) -> None:
    store = storage_args(kind, tmp_path / "b")
    destination = ServerProcess(
        tmp_path / "b" / "data", tmp_path / "b.log", extra_args=[*store, *KEEP]
    )
    destination.start()
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(f"exporters:\n  peer:\n    endpoint: {destination.otlp_http}\n{QUICK}")
    forwarder = ServerProcess(
        tmp_path / "a" / "data",
        tmp_path / "a.log",
        extra_args=[*storage_args(kind, tmp_path / "a"), *KEEP, "--pipeline-file", str(pipeline)],
    )
    forwarder.start()
    try:
        acknowledged = []
        for i in range(15):
            send(forwarder, f"before-{i}")
            acknowledged.append(f"before-{i}")
        destination.stop(signal.SIGKILL)
        for i in range(15):
            send(forwarder, f"while-down-{i}")
            acknowledged.append(f"while-down-{i}")
        forwarder.stop(signal.SIGKILL)
        destination.start()
        forwarder.start()
        all_arrived(forwarder, destination, acknowledged)
        metrics = httpx.get(f"{forwarder.url}/metrics", timeout=10).text
        assert 'otelite_forward_queue_requests{destination="peer"} 0.0' in metrics
        # Stored locally too: forwarding is in addition to the local store.
        assert set(acknowledged) <= tags_at(forwarder)
    finally:
        for server in (forwarder, destination):
            if server.process is not None and server.process.poll() is None:
                server.stop()


@pytest.mark.parametrize("kind", BACKENDS)
def test_kill_9_with_batches_in_flight_loses_nothing(tmp_path: Path, kind: str) -> None:
    # The destination is frozen (SIGSTOP): it takes the connections and never answers,
    # so the forwarder is killed with batches sent and unanswered.
    destination = ServerProcess(
        tmp_path / "b" / "data",
        tmp_path / "b.log",
        extra_args=[*storage_args(kind, tmp_path / "b"), *KEEP],
    )
    destination.start()
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        f"exporters:\n  peer:\n    endpoint: {destination.otlp_http}\n{QUICK}"
        "    queue: {in_flight: 2}\n    batch: {max_size: 1MiB, max_requests: 8}\n"
    )
    forwarder = ServerProcess(
        tmp_path / "a" / "data",
        tmp_path / "a.log",
        extra_args=[*storage_args(kind, tmp_path / "a"), *KEEP, "--pipeline-file", str(pipeline)],
    )
    forwarder.start()
    assert destination.process is not None
    try:
        destination.process.send_signal(signal.SIGSTOP)
        tags = [f"r{i}" for i in range(40)]
        for tag in tags:
            send(forwarder, tag)
        wait_for(
            lambda: destinations(forwarder)["peer"]["oldestQueuedSeconds"] is not None,
            what="batches in flight",
        )
        assert destinations(forwarder)["peer"]["queuedRequests"] == len(tags)
        forwarder.stop(signal.SIGKILL)
        destination.process.send_signal(signal.SIGCONT)
        forwarder.start()
        all_arrived(forwarder, destination, tags)
    finally:
        for server in (forwarder, destination):
            if server.process is not None and server.process.poll() is None:
                server.process.send_signal(signal.SIGCONT)
                server.stop()


def test_a_dead_destination_holds_up_neither_ingest_nor_the_other(tmp_path: Path) -> None:
    live = ServerProcess(None, tmp_path / "live.log", extra_args=KEEP)
    live.start()
    pipeline = tmp_path / "pipeline.yaml"
    dead = f"http://127.0.0.1:{free_port()}"
    pipeline.write_text(
        f"exporters:\n  dead:\n    endpoint: {dead}\n{QUICK}"
        f"  live:\n    endpoint: {live.otlp_grpc}\n    protocol: grpc\n"
        f"    tls: {{insecure: true}}\n{QUICK}"
    )
    forwarder = ServerProcess(
        tmp_path / "data", tmp_path / "a.log", extra_args=[*KEEP, "--pipeline-file", str(pipeline)]
    )
    forwarder.start()
    try:
        tags = [f"r{i}" for i in range(30)]
        for tag in tags:
            send(forwarder, tag)
        wait_for(lambda: set(tags) <= tags_at(live), what="every request at the live one")
        wait_for(
            lambda: destinations(forwarder)["dead"]["breaker"] != "closed",
            what="the dead destination's breaker to open",
        )
        status = destinations(forwarder)
        assert status["dead"]["queuedRequests"] == len(tags)
        # The bytes still to be sent are the requests as sent; the files hold them and
        # their framing.
        sent_bytes = sum(len(make_traces(tag, spans=3).SerializeToString()) for tag in tags)
        assert status["dead"]["queuedBytes"] == sent_bytes
        assert status["dead"]["queueDiskBytes"] > sent_bytes
        assert status["dead"]["sent"] == 0
        assert status["live"]["sent"] >= len(tags)
        assert status["live"]["queuedRequests"] == 0
    finally:
        for server in (forwarder, live):
            if server.process is not None and server.process.poll() is None:
                server.stop()


def test_a_destination_with_its_own_tail_sampling_receives_only_what_it_keeps(
    tmp_path: Path,
) -> None:
    destination = ServerProcess(None, tmp_path / "b.log", extra_args=KEEP)
    destination.start()
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_text(
        f"exporters:\n  vendor:\n    endpoint: {destination.otlp_http}\n{QUICK}"
        "    processors:\n      tail_sampling:\n        decision_wait: 1s\n"
        "        policies: [{name: errors, type: status_code, "
        "status_code: {status_codes: [ERROR]}}]\n"
    )
    forwarder = ServerProcess(
        tmp_path / "data", tmp_path / "a.log", extra_args=[*KEEP, "--pipeline-file", str(pipeline)]
    )
    forwarder.start()
    try:
        tags = [f"t{i}" for i in range(12)]
        failing = set(tags[::3])
        for tag in tags:
            request = make_traces(tag, spans=3)
            if tag in failing:
                request.resource_spans[0].scope_spans[0].spans[2].status.code = 2  # ERROR
            response = httpx.post(
                f"{forwarder.otlp_http}/v1/traces",
                content=request.SerializeToString(),
                headers={"Content-Type": "application/x-protobuf"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
        wait_for(lambda: tags_at(destination) == failing, what="the failing traces forwarded")
        wait_for(
            lambda: (
                destinations(forwarder)["vendor"]["sampling"]
                == {"keptTraces": 4, "droppedTraces": 8, "heldTraces": 0, "heldSpans": 0}
            ),
            what="every trace decided",
        )
        assert tags_at(destination) == failing
        assert tags_at(forwarder) == set(tags)  # the local store keeps everything
        metrics = httpx.get(f"{forwarder.url}/metrics", timeout=10).text
        assert (
            'otelite_forward_sampling_traces_total{decision="dropped",destination="vendor"} 8.0'
            in metrics
        )
    finally:
        for server in (forwarder, destination):
            if server.process is not None and server.process.poll() is None:
                server.stop()

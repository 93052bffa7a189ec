"""More load than otelite can store: 429s with Retry-After, bounded memory, nothing lost."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, wait_for

from .load import PeakRss, Sender, make_request, rss_bytes, stored_span_ids

pytestmark = pytest.mark.slow

QUEUE = 2 << 20  # --max-queue-size: small, so that the senders outrun storage
# What the process may add to its idle size: the queue (as protobuf objects, a few times
# its serialized size), requests being read and decoded, the batch being written, and
# DuckDB's buffers for what was stored. Measured: +118 MiB over 130 MiB idle.
MEMORY_BOUND = 300 << 20
SENDERS = 6
SECONDS = 4.0


def test_past_capacity_clients_are_told_to_retry_and_nothing_acknowledged_is_lost(
    tmp_path: Path,
) -> None:
    server = ServerProcess(
        tmp_path / "data",
        tmp_path / "server.log",
        extra_args=["--max-queue-size", str(QUEUE), "--retention", "off"],
    )
    server.start()
    try:
        assert server.process is not None
        idle = rss_bytes(server.process.pid)
        probe = PeakRss(server.process.pid)
        probe.start()
        senders = [
            Sender(server.otlp_http, first_batch=1 + n * 10_000, spans=1_000)
            for n in range(SENDERS)
        ]
        for sender in senders:
            sender.start()
        time.sleep(SECONDS)
        for sender in senders:
            sender.stopping.set()
        for sender in senders:
            sender.join()
        probe.stopping.set()
        probe.join()

        refused = sum(sum(s.refusals.values()) for s in senders)
        acknowledged = set().union(*(s.acknowledged for s in senders))
        retry_after = [value for s in senders for value in s.retry_after]
        print(
            f"overload: {len(acknowledged)} spans acknowledged, {refused} requests refused "
            f"({sum((s.refusals for s in senders), start=type(senders[0].refusals)())}), "
            f"RSS idle {idle >> 20} MiB, peak {probe.peak >> 20} MiB"
        )
        assert refused > 0, "the senders never got past capacity"
        assert set().union(*(s.refusals for s in senders)) == {429}
        # When the queue will have drained at the recent store rate: 1 to 5 whole seconds.
        assert retry_after and all(value in {"1", "2", "3", "4", "5"} for value in retry_after)
        assert probe.peak - idle < MEMORY_BOUND

        # Recovers once load drops: a single request is accepted again.
        def accepted() -> bool:
            response = httpx.post(
                f"{server.otlp_http}/v1/traces",
                content=make_request(999_999, 10).SerializeToString(),
                headers={"Content-Type": "application/x-protobuf"},
            )
            return response.status_code == 200

        wait_for(accepted, timeout=30, what="otelite to accept data again")
        assert server.stop(signal.SIGTERM) == 0  # drains the queue into storage
        server.start()
        stored = stored_span_ids(server.url)
        missing = acknowledged - stored.keys()
        assert not missing, f"{len(missing)} acknowledged spans were not stored"
        assert max(stored.values()) == 1
    finally:
        if server.process is not None and server.process.poll() is None:
            server.stop()

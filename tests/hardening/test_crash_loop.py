"""``kill -9`` at random moments during ingest, many times over, on each kind of store:
nothing acknowledged lost.

Each cycle starts otelite on the same data directory, lets senders run for a random time,
kills the process with SIGKILL (no shutdown code runs) and restarts it, which must succeed
(the write-ahead log replays, storage opens). At the end storage must hold every
acknowledged span exactly once and nothing that was never sent.
``OTELITE_CRASH_CYCLES`` sets the number of cycles (``make crash-loop`` runs many more).
"""

from __future__ import annotations

import os
import random
import signal
import threading
from pathlib import Path

import pytest

from tests.backends import BACKENDS
from tests.e2e.conftest import ServerProcess, storage_args, wait_for

from .load import Sender, stored_span_ids

pytestmark = pytest.mark.slow

CYCLES = int(os.environ.get("OTELITE_CRASH_CYCLES", "15"))
SENDERS = 2


@pytest.mark.parametrize("kind", BACKENDS)
def test_repeated_kill_9_loses_and_duplicates_nothing(tmp_path: Path, kind: str) -> None:
    rng = random.Random(int(os.environ.get("OTELITE_CRASH_SEED", "5")))
    server = ServerProcess(
        tmp_path / "data", tmp_path / "server.log", extra_args=storage_args(kind, tmp_path)
    )
    acknowledged: set[bytes] = set()
    sent: set[bytes] = set()
    server.start()
    try:
        for cycle in range(CYCLES):
            senders = [
                Sender(server.otlp_http, first_batch=1 + (cycle * 4 + n) * 1_000, spans=100)
                for n in range(SENDERS)
            ]
            for sender in senders:
                sender.start()
            wait_for(
                lambda group=senders: all(s.acknowledged for s in group),
                what="a first acknowledgement",
            )
            threading.Event().wait(rng.uniform(0.0, 0.5))
            server.stop(signal.SIGKILL)
            for sender in senders:
                sender.stopping.set()
                sender.join()
                acknowledged |= sender.acknowledged
                sent |= sender.sent
            # Replays the write-ahead log and opens storage: /readyz answers only after.
            server.start()

        # Losses and duplicates are permanent, so one look at the end sees every cycle's.
        stored = stored_span_ids(server.url)
        missing = acknowledged - stored.keys()
        assert not missing, f"{len(missing)} acknowledged spans lost"
        duplicated = [span_id for span_id, n in stored.items() if n > 1]
        assert not duplicated, f"{len(duplicated)} spans stored twice"
        assert stored.keys() <= sent, "spans stored that were never sent"
        print(
            f"crash loop: {CYCLES} kill -9 cycles, {len(acknowledged)} spans acknowledged, "
            f"{len(stored)} stored"
        )
        assert len(acknowledged) >= CYCLES * SENDERS * 100
    finally:
        if server.process is not None and server.process.poll() is None:
            server.stop()

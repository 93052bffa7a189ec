"""SLO alerts reach an --alert-webhook once each, across ``kill -9`` of ``otelite serve``."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest

from tests.analysis.slo_data import MINUTE, batch, spread
from tests.analysis.test_slo_api import SLO
from tests.analysis.webhook_sink import Sink, serve_sink
from tests.backends import BACKENDS

from .conftest import ServerProcess, storage_args, wait_for

PROTOBUF = {"Content-Type": "application/x-protobuf"}
FIRED = {("SLOFastBurn", "firing"), ("SLOSlowBurn", "firing"), ("SLOBudgetBurn", "firing")}
RESOLVED = {(name, "resolved") for name, _ in FIRED}


def states(sink: Sink) -> Counter[tuple[str, str]]:
    """(alertname, status) of each alert state the webhook took."""
    return Counter((a["labels"]["alertname"], a["status"]) for a in sink.delivered_alerts())


def handed_over(state: Path) -> int:
    """How far the alert state says the notifiers have taken its changes."""
    try:
        return int(orjson.loads(state.read_bytes())["delivered"]["notifiers"])
    except (OSError, ValueError, KeyError):
        return -1


@pytest.mark.parametrize("kind", BACKENDS)
def test_no_alert_is_lost_or_sent_twice_across_kill_9(tmp_path: Path, kind: str) -> None:
    sink = Sink()
    with serve_sink(sink) as url:
        args = [*storage_args(kind, tmp_path), "--slo-interval", "200ms", "--alert-webhook", url]
        server = ServerProcess(tmp_path / "data", tmp_path / "server.log", extra_args=args)
        server.start()
        try:
            # Applied over the API, the SLO is kept in the data directory.
            applied = httpx.post(f"{server.url}/api/slos", content=SLO, timeout=10)
            assert applied.status_code == 201
            now = time.time_ns()
            failing = spread(now - 2 * MINUTE, now - MINUTE, 20, failed=True)
            sent = httpx.post(
                f"{server.otlp_http}/v1/traces",
                content=batch("payment", failing).SerializeToString(),
                headers=PROTOBUF,
                timeout=10,
            )
            assert sent.status_code == 200
            wait_for(lambda: set(states(sink)) >= FIRED, timeout=60, what="the alerts")
            # Killed once the hand-over to the notifiers is saved.
            state = tmp_path / "data" / "slos" / "single-tenant" / "alerts.json"
            wait_for(lambda: handed_over(state) == 3, what="the hand-over saved")
            server.stop(signal.SIGKILL)

            # Restarted, the alerts are still firing: nothing is sent again.
            server.start()
            wait_for(
                lambda: (
                    httpx.get(f"{server.url}/api/v1/rules", timeout=5).json()["data"]["groups"][0][
                        "lastEvaluation"
                    ]
                    != "0001-01-01T00:00:00Z"
                ),
                what="an evaluation after the restart",
            )
            time.sleep(1)  # a few more evaluations, which must send nothing
            assert states(sink) == Counter(dict.fromkeys(FIRED, 1))

            # Deleted, the SLO's alerts are resolved, and killed right after: they are
            # handed over and sent after the restart, once each.
            deleted = httpx.delete(f"{server.url}/api/slos/payment-availability", timeout=10)
            assert deleted.status_code == 200
            server.stop(signal.SIGKILL)
            server.start()
            wait_for(lambda: set(states(sink)) >= RESOLVED, timeout=60, what="the resolutions")
            time.sleep(1)
            assert states(sink) == Counter(dict.fromkeys(FIRED | RESOLVED, 1))
        finally:
            if server.process is not None and server.process.poll() is None:
                server.stop()


@pytest.mark.parametrize("kind", BACKENDS)
def test_an_alert_that_keeps_firing_is_sent_again_each_repeat_interval(
    tmp_path: Path, kind: str
) -> None:
    sink = Sink()
    with serve_sink(sink) as url:
        args = [
            *storage_args(kind, tmp_path),
            "--slo-interval",
            "200ms",
            "--alert-repeat-interval",
            "2s",
            "--alert-webhook",
            url,
        ]
        server = ServerProcess(tmp_path / "data", tmp_path / "server.log", extra_args=args)
        server.start()
        try:
            assert httpx.post(f"{server.url}/api/slos", content=SLO, timeout=10).is_success
            now = time.time_ns()
            failing = spread(now - 2 * MINUTE, now - MINUTE, 20, failed=True)
            sent = httpx.post(
                f"{server.otlp_http}/v1/traces",
                content=batch("payment", failing).SerializeToString(),
                headers=PROTOBUF,
                timeout=10,
            )
            assert sent.status_code == 200
            wait_for(lambda: set(states(sink)) >= FIRED, timeout=60, what="the alerts")
            wait_for(
                lambda: all(states(sink)[s] >= 2 for s in FIRED), timeout=60, what="the repeats"
            )
            # Each interval, not each evaluation (five a second); the same alert (its
            # start), still firing.
            assert all(states(sink)[s] <= 3 for s in FIRED), states(sink)
            for name, _ in FIRED:
                starts = {
                    a["startsAt"]
                    for a in sink.delivered_alerts()
                    if a["labels"]["alertname"] == name
                }
                assert len(starts) == 1, starts
        finally:
            server.stop()

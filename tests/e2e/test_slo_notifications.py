"""SLO alerts reach a webhook once each, across ``kill -9`` of a real ``otelite serve``."""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.analysis.slo_data import MINUTE, batch, spread
from tests.analysis.test_notifier import Receiver
from tests.analysis.test_slo_api import SLO
from tests.backends import BACKENDS

from .conftest import ServerProcess, storage_args, wait_for

PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def messages(receiver: Receiver) -> Counter[tuple[str, str]]:
    """(alertname, status) of each message the webhook took."""
    return Counter((m["alerts"][0]["labels"]["alertname"], m["status"]) for m in receiver.taken)


def saved(state: Path, url: str) -> int:
    """The last change the alert state says ``url`` has had."""
    try:
        return int(orjson.loads(state.read_bytes())["delivered"][url])
    except (OSError, ValueError, KeyError):
        return -1


@pytest.mark.parametrize("kind", BACKENDS)
def test_no_notification_is_lost_or_sent_twice_across_kill_9(
    tmp_path: Path, receiver: Receiver, kind: str
) -> None:
    args = [
        *storage_args(kind, tmp_path),
        "--slo-interval",
        "200ms",
        "--slo-webhook",
        receiver.url,
    ]
    server = ServerProcess(tmp_path / "data", tmp_path / "server.log", extra_args=args)
    server.start()
    try:
        # Applied over the API, the SLO is kept in the data directory.
        assert httpx.post(f"{server.url}/api/slos", content=SLO, timeout=10).status_code == 201
        now = time.time_ns()
        failing = spread(now - 2 * MINUTE, now - MINUTE, 20, failed=True)
        sent = httpx.post(
            f"{server.otlp_http}/v1/traces",
            content=batch("payment", failing).SerializeToString(),
            headers=PROTOBUF,
            timeout=10,
        )
        assert sent.status_code == 200
        fired = {("SLOFastBurn", "firing"), ("SLOSlowBurn", "firing"), ("SLOBudgetBurn", "firing")}
        wait_for(lambda: set(messages(receiver)) >= fired, timeout=60, what="the alerts")
        # Killed once their delivery is saved (killed between the receiver's answer and
        # that save, a message would be sent again: the Idempotency-Key is for that).
        state = tmp_path / "data" / "slos" / "single-tenant" / "alerts.json"
        wait_for(lambda: saved(state, receiver.url) == 3, what="the deliveries saved")
        metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
        sent = f'otelite_slo_notifications_total{{outcome="sent",receiver="{receiver.url}"}} 3.0'
        assert sent in metrics
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
        assert messages(receiver) == Counter(dict.fromkeys(fired, 1))

        # The webhook is down when the SLO is deleted, and the server is killed before it
        # comes back: the resolutions are sent after the restart, once each.
        receiver.script = [503] * 1000
        deleted = httpx.delete(f"{server.url}/api/slos/payment-availability", timeout=10)
        assert deleted.status_code == 200
        wait_for(lambda: len(receiver.got) > 3, what="a refused resolution")
        server.stop(signal.SIGKILL)
        receiver.script = []
        server.start()
        resolved = {(name, "resolved") for name, _ in fired}
        wait_for(lambda: set(messages(receiver)) >= resolved, timeout=60, what="the resolutions")
        time.sleep(1)
        assert messages(receiver) == Counter(dict.fromkeys(fired | resolved, 1))
    finally:
        if server.process is not None and server.process.poll() is None:
            server.stop()

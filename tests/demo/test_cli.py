"""``otelite demo`` end to end: a real server fills up with the shop's telemetry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from otelite.cli import main
from otelite.demo import SERVICES
from tests.e2e.conftest import ServerProcess, free_port, wait_for


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "otelite", "demo", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_demo_fills_a_real_otelite_over_both_protocols(tmp_path: Path) -> None:
    server = ServerProcess(None, tmp_path / "server.log")
    server.start()
    try:
        done = _demo("--endpoint", server.otlp_http, "--duration", "2s", "--rate", "1500")
        assert done.returncode == 0, done.stderr
        assert "otelite demo: sent" in done.stderr
        assert "rejected" not in done.stderr
        names = {s.name for s in SERVICES}

        def services() -> set[str] | None:
            body = httpx.get(f"{server.url}/api/services", timeout=5).json()
            found = {s["name"] for s in body["services"]}
            return found if found == names else None

        wait_for(services, timeout=15, what="every demo service")
        logs = httpx.get(
            f"{server.url}/api/search/logs", params={"service": "order"}, timeout=5
        ).json()
        assert logs["logs"] and all(len(log["traceId"]) == 32 for log in logs["logs"])
        metrics = httpx.get(f"{server.url}/api/metrics", timeout=5).json()["metrics"]
        assert "http.server.request.duration" in {m["name"] for m in metrics}

        done = _demo(
            "--protocol", "grpc", "--endpoint", server.otlp_grpc, "--duration", "1s",
            "--services", "payment", "--scenario", "failing-payment-provider", "--seed", "2",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert "to " + server.otlp_grpc in done.stderr
    finally:
        server.stop()


def test_demo_says_in_one_line_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    assert main(["demo", "--endpoint", endpoint, "--duration", "1s"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        f"otelite: error: nothing listens for OTLP/HTTP at {endpoint}: "
        "is `otelite serve` (or another OTLP receiver) running?"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--services", "order,nope"], "unknown services"),
        (["--error-rate", "1.5"], "between 0 and 1"),
        (["--rate", "0"], "more than 0"),
        (["--scenario", "meteor"], "invalid choice"),
    ],
)
def test_bad_arguments_are_refused(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["demo", *args])
    assert message in capsys.readouterr().err

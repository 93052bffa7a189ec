"""``otelite serve`` in a subprocess, driven by every client command, then stopped by SIGTERM."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from otelite.cli import main
from otelite.otlp import decode_request_json, encode_request_json
from otelite.types import ExportRequest, Signal
from tests.roundtrip import assert_same_telemetry

from .support import TRACE_ID, sample_logs, sample_metrics, sample_traces

pytestmark = pytest.mark.slow
Capture = pytest.CaptureFixture[str]


@dataclass
class Served:
    process: subprocess.Popen[str]
    output: queue.Queue[str]
    api_url: str
    otlp_url: str

    def wait_for(self, pattern: str, timeout: float = 30.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.output.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None and self.output.empty():
                    break
                continue
            seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "otelite",
            "serve",
            "--memory",
            "--port",
            "0",
            "--otlp-grpc-port",
            "0",
            "--otlp-http-port",
            "0",
            # The sample data is from 2023: retention would delete it.
            "--retention",
            "off",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None

    def read() -> None:
        for line in process.stdout or ():
            output.put(line)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        partial = Served(process, output, "", "")
        api = partial.wait_for(r"query API\s+(http://\S+)").group(1)
        otlp = partial.wait_for(r"OTLP/HTTP\s+(http://\S+)").group(1)
        yield Served(process, output, api, otlp)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        reader.join(timeout=30)
        process.stdout.close()


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Stored data becomes visible to queries shortly after it is acknowledged."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("not visible in time")
        time.sleep(0.05)


def test_import_query_export_then_stop(served: Served, tmp_path: Path, capsys: Capture) -> None:
    sent: dict[Signal, ExportRequest] = {
        Signal.TRACES: sample_traces(),
        Signal.METRICS: sample_metrics(),
        Signal.LOGS: sample_logs(),
    }
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(encode_request_json(r) + b"\n" for r in sent.values()))
    assert main(["import", str(source), "--otlp-url", served.otlp_url]) == 0
    url = ["--url", served.api_url]
    # Listings default to the last hour; the sample data is from 2023-11-14.
    window = ["--start", "2023-11-14T00:00:00Z", "--end", "2023-11-15T00:00:00Z"]

    def services() -> bool:
        assert main(["services", "--json", *window, *url]) == 0
        names = [s["name"] for s in orjson.loads(capsys.readouterr().out)["services"]]
        return sorted(names) == ["frontend", "payments"]

    eventually(services)

    assert main(["trace", TRACE_ID, *url]) == 0
    tree = capsys.readouterr().out.splitlines()
    assert tree[0].startswith(f"trace {TRACE_ID} · 3 spans · 2 services · 120ms")
    assert [line.split()[0] for line in tree[2:]] == ["GET", "├─", "└─"]
    assert "error: card declined" in tree[3]

    assert main(["traces", "--service", "payments", "--status", "error", *window, *url]) == 0
    assert TRACE_ID in capsys.readouterr().out

    assert main(["logs", "--trace-id", TRACE_ID, *window, *url]) == 0
    assert "card declined⏎retrying" in capsys.readouterr().out

    assert main(["metrics", *window, *url]) == 0
    assert "http.requests" in capsys.readouterr().out

    for kind, request in sent.items():
        target = tmp_path / f"{kind.value}.jsonl"
        assert main(["export", "--signal", kind.value, "-o", str(target), *url]) == 0
        exported = [decode_request_json(kind, line) for line in target.read_bytes().splitlines()]
        assert_same_telemetry([request], exported)

    served.process.send_signal(signal.SIGTERM)
    assert served.process.wait(timeout=30) == 0
    served.wait_for("otelite: stopped")

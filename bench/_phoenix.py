"""The same trace ingest against Arize Phoenix, in its own virtualenv, for comparison.

Phoenix is installed with pip into ``bench/.phoenix-venv`` when missing, started on free
ports over a temporary working directory, sent OTLP/HTTP protobuf at ``/v1/traces`` (it
answers 503 while its queue is full; the senders retry) and asked through its GraphQL API
how many spans it has stored, until all of them are.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench._send import SendResult, presplit, send_parallel
from bench._server import MemorySampler, free_port, wait_until
from bench._workload import Pool

__all__ = ["VENV", "PhoenixRun", "run_phoenix"]

VENV = Path(__file__).resolve().parent / ".phoenix-venv"
_COUNT = "{ projects { edges { node { name recordCount } } } }"


@dataclass(frozen=True, slots=True)
class PhoenixRun:
    """Phoenix's result, or why there is none."""

    version: str
    sent: SendResult | None
    stored_seconds: float
    """From the start signal until GraphQL counted every acknowledged span."""
    peak_rss: int
    error: str

    @property
    def stored_rate(self) -> float:
        if self.sent is None or self.stored_seconds <= 0:
            return 0.0
        return self.sent.items / self.stored_seconds


def _install(log: Path) -> str:
    """Phoenix's version, installing it first if needed; raises with pip's output on failure."""
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = [str(python), "-c", "import importlib.metadata as m; print(m.version('arize-phoenix'))"]
    found = subprocess.run(probe, capture_output=True, text=True)
    if found.returncode == 0:
        return found.stdout.strip()
    with log.open("ab") as out:
        pip = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "arize-phoenix"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    if pip.returncode != 0:
        tail = log.read_text(errors="replace")[-1500:]
        raise RuntimeError(f"pip install arize-phoenix failed ({pip.returncode}):\n{tail}")
    return subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()


def _count(client: httpx.Client, url: str) -> int:
    answer = client.post(f"{url}/graphql", json={"query": _COUNT}, timeout=60)
    answer.raise_for_status()
    edges = answer.json()["data"]["projects"]["edges"]
    return sum(int(edge["node"]["recordCount"]) for edge in edges)


def run_phoenix(pool: Pool, *, senders: int, workdir: Path, timeout: float = 1800) -> PhoenixRun:
    """Send ``pool`` (traces) to a fresh Phoenix; never raises, the error is in the result."""
    log = workdir / "phoenix.log"
    try:
        version = _install(log)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
        return PhoenixRun("", None, 0.0, 0, f"could not install Phoenix: {error}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(free_port()),
        "PHOENIX_WORKING_DIR": tempfile.mkdtemp(dir=workdir, prefix="phoenix-"),
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(VENV / "bin" / "phoenix"), "serve"], stdout=out, stderr=subprocess.STDOUT, env=env
        )
    try:
        with httpx.Client() as client:

            def ready() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"Phoenix exited with {process.returncode}")
                try:
                    return client.get(f"{url}/healthz", timeout=2).status_code == 200
                except httpx.TransportError:
                    return False

            wait_until(ready, timeout=180, what="Phoenix to start", every=0.5)
            with MemorySampler(process.pid) as memory:
                sent = send_parallel(
                    "http",
                    ("127.0.0.1", port),
                    pool.signal,
                    presplit(pool.bodies, pool.items),
                    senders=senders,
                )
                wait_until(
                    lambda: _count(client, url) >= sent.items,
                    timeout=timeout,
                    what=f"Phoenix to store {sent.items} spans",
                    every=0.5,
                )
                stored_seconds = time.monotonic() - sent.started
        return PhoenixRun(version, sent, stored_seconds, memory.peak, "")
    except (RuntimeError, TimeoutError, httpx.HTTPError) as error:
        tail = log.read_text(errors="replace")[-1500:]
        return PhoenixRun(version, None, 0.0, 0, f"{error}\n{tail}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""A sampling profile of the server while it ingests, summarised as its top frames."""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from bench._send import presplit, send_parallel
from bench._server import OteliteProcess
from bench._workload import Pool, variant

__all__ = ["Profile", "parse_collapsed", "profile_ingest"]


@dataclass(frozen=True, slots=True)
class Profile:
    """Top frames by own time and by total time, as shares of all samples."""

    samples: int
    self_top: list[tuple[str, float]]
    total_top: list[tuple[str, float]]
    command: str
    error: str = ""


def parse_collapsed(
    text: str, *, top: int = 15, mine: str = "otelite/"
) -> tuple[int, list[tuple[str, float]], list[tuple[str, float]]]:
    """Collapsed stacks (``root;caller;callee count`` per line) → samples, top frames by
    self share, and top frames naming ``mine`` by total share (a frame counts once per stack
    however often it recurs)."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            if mine in frame:
                total[frame] += count
    if not samples:
        return 0, [], []

    def shares(counter: collections.Counter[str]) -> list[tuple[str, float]]:
        return [(frame, n / samples) for frame, n in counter.most_common(top)]

    return samples, shares(own), shares(total)


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def profile_ingest(pool: Pool, *, senders: int, seconds: float, workdir: Path) -> Profile:
    """Record the server with py-spy for ``seconds`` while ``pool`` is sent over and over."""
    py_spy = _py_spy()
    if py_spy is None:
        return Profile(0, [], [], "", "py-spy not found (pip install py-spy, in the dev extra)")
    server = OteliteProcess(workdir / "data", workdir / "server.log")
    server.start()
    out = workdir / "profile.txt"
    command = [
        py_spy, "record", "--pid", str(server.pid), "--duration", str(int(seconds)),
        "--rate", "100", "--format", "raw", "--output", str(out), "--nonblocking",
    ]  # fmt: skip
    shown = f"py-spy record --pid <server> --duration {int(seconds)} --rate 100 --format raw"
    try:
        recorder = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        done = threading.Event()

        def wait() -> None:
            recorder.wait()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        generation = 100  # new trace ids, distinct from the ingest runs'
        while not done.is_set():
            work = presplit(variant(pool, generation), pool.items)
            send_parallel(
                "http", ("127.0.0.1", server.http_port), pool.signal, work, senders=senders
            )
            generation += 1
        output = recorder.stdout.read().decode(errors="replace") if recorder.stdout else ""
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)
    if recorder.returncode != 0 or not out.exists():
        return Profile(0, [], [], shown, f"py-spy failed ({recorder.returncode}): {output[-800:]}")
    samples, own, total = parse_collapsed(out.read_text())
    return Profile(samples, own, total, shown)

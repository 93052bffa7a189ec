"""A sampling profile of the server while it ingests, summarised as its top frames."""

from __future__ import annotations

import collections
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench._send import presplit, send_parallel
from bench._server import STORE_NAMES, OteliteProcess, Store, cpu_seconds
from bench._workload import Pool, variant

__all__ = ["ROLES", "Profile", "parse_collapsed", "profile_ingest", "roles"]

ROLES: tuple[tuple[str, str], ...] = (
    ("flatten worker process", "_serve (otelite/pipeline/_flatten.py"),
    ("storage writer thread ({store} inserts)", "BatchWriter._run"),
    ("batcher thread", "BatchWriter._batch"),
    ("flatten results thread", "_Worker._receive"),
    ("decode/validate threads (asyncio.to_thread)", "concurrent/futures/thread.py"),
    ("event loop (HTTP, decode, validate, write-ahead log)", "run_forever"),
)
"""(role, a frame that marks its stacks), first match wins: where the server's CPU goes.
``{store}`` in a role is the store's name."""


@dataclass(frozen=True, slots=True)
class Profile:
    """Top frames by own time and by total time, as shares of all samples."""

    samples: int
    self_top: list[tuple[str, float]]
    total_top: list[tuple[str, float]]
    command: str
    error: str = ""
    cores: list[tuple[str, float]] = field(default_factory=list)
    """(role, cores it kept busy on average) over the recording, largest first."""
    store: Store = "duckdb"
    all_cores: float | None = None
    """Cores the server's processes kept busy over the recording by /proc: every thread,
    also those py-spy cannot see (the stores' own thread pools run no Python)."""


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


def roles(
    text: str, *, seconds: float, rate: int, store: Store = "duckdb"
) -> list[tuple[str, float]]:
    """Collapsed stacks → (role of ``ROLES``, or "other", cores busy on average).

    py-spy samples each busy thread ``rate`` times a second, so a role's samples over
    ``seconds * rate`` is how many cores it kept busy.
    """
    counts: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        role = next((name for name, marker in ROLES if marker in stack), "other")
        counts[role.format(store=STORE_NAMES[store])] += int(count_text)
    return [(role, n / (seconds * rate)) for role, n in counts.most_common()]


def _py_spy() -> str | None:
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


_RATE = 100
"""Samples per second and busy thread."""


def profile_ingest(
    pool: Pool, *, store: Store, senders: int, seconds: float, workdir: Path
) -> Profile:
    """Record the server over ``store`` with py-spy for ``seconds`` while ``pool`` is sent
    over and over."""
    py_spy = _py_spy()
    if py_spy is None:
        return Profile(
            0, [], [], "", "py-spy not found (pip install py-spy, in the dev extra)", store=store
        )
    server = OteliteProcess.under(workdir, store, log="server-profile")
    server.start()
    out = workdir / f"profile-{store}.txt"
    command = [
        py_spy, "record", "--pid", str(server.pid), "--subprocesses", "--duration",
        str(int(seconds)), "--rate", str(_RATE), "--format", "raw", "--output", str(out),
        "--nonblocking",
    ]  # fmt: skip
    shown = (
        f"py-spy record --pid <server> --subprocesses --duration {int(seconds)} "
        f"--rate {_RATE} --format raw"
    )
    try:
        cpu_before, began = cpu_seconds(server.pid), time.monotonic()
        recorder = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        done = threading.Event()
        used: list[float] = []

        def wait() -> None:
            recorder.wait()
            used.append((cpu_seconds(server.pid) - cpu_before) / (time.monotonic() - began))
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
        error = f"py-spy failed ({recorder.returncode}): {output[-800:]}"
        return Profile(0, [], [], shown, error, store=store)
    text = out.read_text()
    samples, own, total = parse_collapsed(text)
    return Profile(
        samples,
        own,
        total,
        shown,
        cores=roles(text, seconds=seconds, rate=_RATE, store=store),
        store=store,
        all_cores=used[0] if used else None,
    )

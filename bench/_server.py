"""The server under test as a subprocess over one of its stores, and its memory and CPU as
/proc reports them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import httpx

__all__ = [
    "STORES",
    "STORE_NAMES",
    "Memory",
    "MemorySampler",
    "OteliteProcess",
    "Store",
    "cpu_seconds",
    "free_port",
    "parse_stat_cpu_ticks",
    "parse_status_kib",
    "read_memory",
    "start_paused",
    "wait_until",
]

Store = Literal["duckdb", "chdb"]
"""Where the server stores: ``--storage duckdb`` (the default, a file in the data directory)
or ``--storage chdb:<data dir>/chdb`` (ClickHouse's engine in the server's process)."""
STORES: tuple[Store, ...] = ("duckdb", "chdb")
STORE_NAMES: dict[Store, str] = {"duckdb": "DuckDB", "chdb": "chDB"}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, every: float = 0.05
) -> None:
    """Poll ``check`` until true; raise ``TimeoutError`` naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(every)


@dataclass
class OteliteProcess:
    """``otelite serve`` on free ports over ``data_dir`` storing into ``store``; output goes
    to ``log_path``. chDB keeps its files inside ``data_dir`` too, so the size of
    ``data_dir`` is the footprint of either store (with the write-ahead log)."""

    data_dir: Path
    log_path: Path
    store: Store = "duckdb"
    api_port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    extra_args: tuple[str, ...] = ()
    """More ``otelite serve`` options (``--pipeline-file``)."""

    @classmethod
    def under(
        cls,
        workdir: Path,
        store: Store,
        *,
        log: str = "server",
        label: str | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> OteliteProcess:
        """A server over ``store`` keeping its data in ``workdir/data-<label>`` and
        appending its output to ``workdir/<log>-<label>.log`` (``label``: the store's
        name by default)."""
        name = label or store
        return cls(
            workdir / f"data-{name}",
            workdir / f"{log}-{name}.log",
            store=store,
            extra_args=extra_args,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "otelite",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--storage",
            "duckdb" if self.store == "duckdb" else f"chdb:{self.data_dir / 'chdb'}",
            "--port",
            str(self.api_port),
            "--otlp-grpc-port",
            str(self.grpc_port),
            "--otlp-http-port",
            str(self.http_port),
            # The fill spreads data over a day; nothing may expire while the bench runs.
            "--retention",
            "off",
            *self.extra_args,
        ]

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                # A file, not a pipe: nobody reads while the server runs.
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
                # A session of its own: when a process group with a stopped (paused) member
                # loses its last parent outside, the kernel hangs the whole group up.
                start_new_session=True,
            )
        wait_until(self._ready, timeout=300, what="otelite to become ready")

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"otelite exited with {self.process.returncode}:\n{tail}")
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def pause(self) -> None:
        """Stop the server's processes (SIGSTOP) until ``resume``.

        When stores take turns, the one not being measured must not spend the CPU of the
        one that is: ClickHouse merges parts and DuckDB checkpoints in the background after
        a run. Paused, each does that work on its own turn, as it would running alone.
        """
        self._signal_all(signal.SIGSTOP)

    def resume(self) -> None:
        """Continue after ``pause`` (harmless when running) once the server answers again."""
        self._signal_all(signal.SIGCONT)
        wait_until(self._ready, timeout=60, what="otelite to answer after a pause")

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Running for the ``with`` block, paused after it."""
        self.resume()
        try:
            yield
        finally:
            self.pause()

    def _signal_all(self, number: signal.Signals) -> None:
        for pid in descendants(self.pid):
            try:
                os.kill(pid, number)
            except ProcessLookupError:
                continue  # a worker that just ended

    def stop(self) -> int:
        """A clean shutdown (SIGTERM): everything accepted is stored and checkpointed."""
        assert self.process is not None
        if self.process.poll() is None:
            # A paused process would hold the SIGTERM until continued.
            self._signal_all(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=600)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()


def start_paused(servers: Iterable[OteliteProcess], cleanup: ExitStack) -> None:
    """Start ``servers`` and pause each (they take turns); when ``cleanup`` closes, each is
    stopped and its data directory removed."""
    for server in servers:
        cleanup.callback(shutil.rmtree, server.data_dir, ignore_errors=True)
        server.start()
        cleanup.callback(server.stop)
        server.pause()


@dataclass(frozen=True, slots=True)
class Memory:
    """Memory of a process and its descendants, in bytes."""

    rss: int
    """Proportional set size summed over the processes: resident pages, each shared page
    split among the processes sharing it, so nothing is counted twice."""
    hwm: int
    """The same; the kernel keeps no peak for a group of processes (samplers take it)."""


def parse_status_kib(text: str, key: str) -> int:
    """A ``kB`` field of /proc/<pid>/status or smaps_rollup (``VmRSS``, ``Pss``) in bytes."""
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name == key:
            number, _, unit = value.strip().partition(" ")
            if unit != "kB":
                raise ValueError(f"{key}: unexpected unit {unit!r}")
            return int(number) * 1024
    raise KeyError(f"{key} not in /proc status")


def descendants(pid: int) -> list[int]:
    """``pid`` and every process under it (otelite's flatten workers and their forkserver)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # Fields after the command name, which may hold spaces: state, then the parent.
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def read_memory(pid: int) -> Memory:
    """Memory of ``pid`` and its descendants from /proc (see ``Memory``)."""
    total = 0
    for member in descendants(pid):
        try:
            text = Path(f"/proc/{member}/smaps_rollup").read_text()
        except OSError:
            if member == pid:
                raise
            continue  # a worker that just ended
        total += parse_status_kib(text, "Pss")
    return Memory(total, total)


def parse_stat_cpu_ticks(stat: str) -> int:
    """User plus system time of a /proc/<pid>/stat line, in clock ticks (all its threads)."""
    # The command name may hold spaces and parentheses: fields count from its last ")".
    fields = stat.rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float:
    """CPU time ``pid`` and its descendants used so far, every thread (Python or native)."""
    ticks = 0
    for member in descendants(pid):
        try:
            ticks += parse_stat_cpu_ticks(Path(f"/proc/{member}/stat").read_text())
        except OSError:
            continue  # a worker that just ended
    return ticks / os.sysconf("SC_CLK_TCK")


class MemorySampler:
    """Samples a process tree's memory (``read_memory``) every ``every`` seconds in a thread;
    ``peak`` is the most seen since it started."""

    def __init__(self, pid: int, *, every: float = 0.1) -> None:
        self._pid = pid
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak = 0

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, read_memory(self._pid).rss)
            except (OSError, KeyError):
                return
            self._stop.wait(self._every)

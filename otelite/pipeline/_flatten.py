"""Flattening in worker processes: serialized requests in, Arrow tables out, on another core.

Turning requests into rows (``otelite.storage.flatten``) is Python work; in the server's
process it would share one interpreter lock with the event loop and the storage writer, so
the second core would mostly idle. A worker process parses the serialized requests (the
bytes the write-ahead log already holds) straight into rows and hands the tables back as
Arrow IPC streams. Both ways the data goes through an anonymous in-memory file: only its
descriptor crosses the pipe, and the other side maps the file (the server reads the
tables from it without copying). Streaming tens of megabytes through the pipe instead kept
the worker waiting on a receiving thread that competes for the interpreter lock, and
kept it idle while it read the next job (~40% of the time under load; sustained ingest
went from ~55k to ~70k spans/s when jobs moved to files too). The writer inserts the
tables while the worker flattens the next batch.

Workers come from a ``forkserver`` that preloads only this module: they start in tens of
milliseconds, inherit none of the server's threads or sockets, and never import the
program's ``__main__``. Each talks to the server over its own pipe and exits when the pipe
closes, so a server that dies (even by ``kill -9``) leaves no worker behind.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import itertools
import mmap
import multiprocessing
import os
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from multiprocessing import reduction
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import pyarrow as pa

from otelite.errors import InvalidRequest, Unavailable
from otelite.storage import flatten
from otelite.types import Signal

__all__ = ["FlattenPool", "PendingTables"]

_Job = list[tuple[Signal, bytes]]
_Requests = list[tuple[str, int, int]]
"""A job as sent: (signal, offset, length) of each request in the file that follows."""
_QUIT = None
"""Sent instead of a job: the worker ends."""


_Places = list[tuple[str, int, int]]
"""(table name, offset, length) of each stream in the file a worker hands over."""
_Answer = tuple[str | None, _Places]
"""(error text or None, where the tables are)."""


def _flatten_to_streams(requests: _Job) -> dict[str, pa.Buffer]:
    """Flatten requests; each table as an Arrow IPC stream."""
    tables = flatten(
        [payload for signal, payload in requests if signal is Signal.TRACES],
        [payload for signal, payload in requests if signal is Signal.METRICS],
        [payload for signal, payload in requests if signal is Signal.LOGS],
    )
    streams: dict[str, pa.Buffer] = {}
    for name, table in tables.items():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        streams[name] = sink.getvalue()
    return streams


def _serve(connection: Connection) -> None:
    """A worker's life: flatten each job received, answer in order, end with the pipe.

    An answer is an ``_Answer``, followed, when it lists streams, by the descriptor of the
    file that holds them.
    """
    while True:
        try:
            places: _Requests | None = connection.recv()
            if places is _QUIT:
                return
            job = _receive_job(connection, places)
        except (EOFError, OSError):
            return
        # Flattening allocates a few objects per attribute and makes no reference cycles;
        # the collector's passes over them cost ~7% of it. It runs between jobs instead.
        gc.disable()
        try:
            streams = _flatten_to_streams(job)
        except Exception as error:
            connection.send((f"{type(error).__name__}: {error}", []))
            continue
        finally:
            gc.enable()
        try:
            _send_streams(connection, streams)
        except OSError:
            return


def _send_job(connection: Connection, job: _Job) -> None:
    """Send the serialized requests of ``job`` as one anonymous in-memory file.

    Piping tens of megabytes kept the worker waiting while it read them, between jobs
    (measured: idle ~40% of the time under load); the file is written on this side and
    only its descriptor crosses the pipe.
    """
    places: _Requests = []
    offset = 0
    for signal, payload in job:
        places.append((signal.value, offset, len(payload)))
        offset += len(payload)
    if not offset:
        connection.send(places)
        return
    fd = _anonymous_file()
    try:
        for _, payload in job:
            _write_all(fd, payload)
        connection.send(places)
        reduction.send_handle(connection, fd, 0)  # the process id is for Windows only
    finally:
        os.close(fd)


def _receive_job(connection: Connection, places: _Requests) -> _Job:
    if not places or not places[-1][1] + places[-1][2]:
        return [(Signal(signal), b"") for signal, _, _ in places]
    fd = reduction.recv_handle(connection)
    try:
        _, last, length = places[-1]
        with mmap.mmap(fd, last + length, prot=mmap.PROT_READ) as mapped:
            return [
                (Signal(signal), mapped[start : start + size]) for signal, start, size in places
            ]
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes | pa.Buffer) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _send_streams(connection: Connection, streams: dict[str, pa.Buffer]) -> None:
    places: _Places = []
    offset = 0
    for name, stream in streams.items():
        places.append((name, offset, stream.size))
        offset += stream.size
    answer: _Answer = (None, places)
    if not places:
        connection.send(answer)
        return
    fd = _anonymous_file()
    try:
        for stream in streams.values():
            _write_all(fd, stream)
        connection.send(answer)
        reduction.send_handle(connection, fd, 0)  # the process id is for Windows only
    finally:
        os.close(fd)


def _anonymous_file() -> int:
    """A file descriptor of a new file in memory that has no name (a temporary file where
    the system has no ``memfd_create``)."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("otelite-flatten", os.MFD_CLOEXEC)
    with tempfile.TemporaryFile() as file:
        return os.dup(file.fileno())


def _receive_tables(
    connection: Connection, places: list[tuple[str, int, int]]
) -> dict[str, pa.Table]:
    """Map the file a worker sent and read its tables; they keep the mapping alive."""
    if not places:
        return {}
    fd = reduction.recv_handle(connection)
    try:
        _, last, length = places[-1]
        mapped = pa.py_buffer(mmap.mmap(fd, last + length, prot=mmap.PROT_READ))
    finally:
        os.close(fd)
    return {
        name: pa.ipc.open_stream(mapped.slice(offset, size)).read_all()
        for name, offset, size in places
    }


class PendingTables:
    """The tables of one submitted batch, once its worker has flattened them."""

    def __init__(self, future: Future[dict[str, pa.Table]]) -> None:
        self._future = future
        self._submitted = time.perf_counter()
        self.seconds = 0.0
        """From submission until the tables (or the error) came back, once they have."""
        future.add_done_callback(self._done)

    def _done(self, future: Future[dict[str, pa.Table]]) -> None:
        self.seconds = time.perf_counter() - self._submitted

    def result(self) -> dict[str, pa.Table]:
        """Wait for the tables (table name → rows).

        Raises ``InvalidRequest`` when the requests cannot be flattened (retrying the same
        requests cannot help) and ``Unavailable`` when the worker died (retrying can).
        """
        tables = self._future.result()
        if not self.seconds:  # woken before the callback ran: it is about now
            self.seconds = time.perf_counter() - self._submitted
        return tables


class _Worker:
    """One worker process, its pipe, and the futures of the jobs it holds, oldest first."""

    def __init__(self, context: multiprocessing.context.ForkServerContext) -> None:
        self._connection, theirs = context.Pipe()
        self._process: BaseProcess = context.Process(
            target=_serve, args=(theirs,), name="otelite-flatten", daemon=True
        )
        self._process.start()
        theirs.close()
        self._send_lock = threading.Lock()
        self._pending: collections.deque[Future[dict[str, pa.Table]]] = collections.deque()
        self.alive = True
        self._receiver = threading.Thread(
            target=self._receive, name="otelite-flatten-results", daemon=True
        )
        self._receiver.start()

    @property
    def pid(self) -> int:
        pid = self._process.pid
        assert pid is not None  # started in __init__
        return pid

    def submit(self, job: _Job) -> Future[dict[str, pa.Table]]:
        future: Future[dict[str, pa.Table]] = Future()
        with self._send_lock:
            if not self.alive:
                future.set_exception(Unavailable("flatten worker died"))
                return future
            self._pending.append(future)
            try:
                _send_job(self._connection, job)
            except OSError as error:
                self._die(f"cannot reach the flatten worker: {error}")
        return future

    def close(self) -> None:
        """End the worker after the jobs it holds and wait for it (blocking)."""
        # The worker quitting closes its end, which ends the receiver; closing ours first
        # would not wake a thread blocked reading it.
        with self._send_lock, contextlib.suppress(OSError):
            self._connection.send(_QUIT)
        self._process.join()
        self._receiver.join()
        self._connection.close()

    def _receive(self) -> None:
        try:
            while True:
                answer: _Answer = self._connection.recv()
                error, places = answer
                tables = _receive_tables(self._connection, places)
                future = self._pending.popleft()
                if error is None:
                    future.set_result(tables)
                else:
                    future.set_exception(
                        InvalidRequest(f"storage cannot flatten the request: {error}")
                    )
        except Exception as failure:  # EOFError or OSError when the worker is gone
            self._die(f"flatten worker died ({type(failure).__name__}: {failure})")

    def _die(self, reason: str) -> None:
        self.alive = False
        while self._pending:
            future = self._pending.popleft()
            if not future.done():
                future.set_exception(Unavailable(reason))


class FlattenPool:
    """Worker processes that flatten batches of serialized requests.

    ``start`` and ``close`` block; ``submit`` may be called from any thread. Jobs go to
    the workers in turn; a worker that died (killed, out of memory) fails its jobs with
    ``Unavailable`` and is replaced on the next ``submit``.
    """

    def __init__(self, *, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload([__name__])
        self._size = workers
        self._workers: list[_Worker] = []
        self._turn = itertools.count()
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        """Start the workers (blocking)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("FlattenPool is closed")
            while len(self._workers) < self._size:
                self._workers.append(_Worker(self._context))

    @property
    def pids(self) -> list[int]:
        """Process ids of the running workers (their memory is part of the server's)."""
        with self._lock:
            return [worker.pid for worker in self._workers if worker.alive]

    def submit(self, requests: Sequence[tuple[Signal, bytes]]) -> PendingTables:
        """Queue ``requests`` (signal, serialized request) for a worker to flatten."""
        with self._lock:
            if self._closed:
                raise RuntimeError("FlattenPool is closed")
            index = next(self._turn) % self._size
            dead: _Worker | None = None
            if index >= len(self._workers):
                self._workers.append(_Worker(self._context))
            elif not self._workers[index].alive:
                dead, self._workers[index] = self._workers[index], _Worker(self._context)
            worker = self._workers[index]
        if dead is not None:
            dead.close()  # already gone: this only reaps it
        return PendingTables(worker.submit(list(requests)))

    def close(self) -> None:
        """Stop the workers after the jobs already submitted. Idempotent."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()

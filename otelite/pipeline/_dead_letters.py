"""A destination's dead letters: the requests it refused for good, kept for a person to
look at (and send again by hand), within a bound.

On disk (``DATA_DIR/forward/<name>/dead-letter/``) each letter is two files named by its
queue sequence number: ``<seq>.<signal>.pb`` (the request as it was queued, binary
protobuf) and ``<seq>.json`` (signal, tenant, time and the destination's answer). Over
``max_bytes`` (both files counted) the oldest letters are removed, in the order they were
written, and counted; the newest letter is kept even when it alone is over the bound, so
that the latest refusal can always be seen.

In memory (``--memory``) only the latest letters' descriptions are kept, without bodies.
"""

from __future__ import annotations

import collections
import contextlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

from otelite.pipeline._forward_queue import Queued
from otelite.types import Signal

__all__ = ["DeadLetter", "DeadLetterReport", "DeadLetters"]

_KEPT_IN_MEMORY = 20


@dataclass(frozen=True, slots=True)
class DeadLetter:
    seq: int
    signal: Signal
    tenant: str
    answer: str
    at: float
    """Unix seconds."""


@dataclass(frozen=True, slots=True)
class DeadLetterReport:
    requests: int
    """Letters kept."""
    bytes: int
    """Bytes they take on disk (0 in memory)."""
    removed_requests: int
    """Letters removed since start to keep within the bound."""
    removed_bytes: int


class DeadLetters:
    """One destination's dead letters in ``directory`` (None: in memory), within
    ``max_bytes``. Safe to call from any thread."""

    def __init__(self, directory: Path | None, max_bytes: int) -> None:
        self._dir = directory
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._kept: collections.OrderedDict[str, int] = collections.OrderedDict()
        """Letters on disk, oldest first: file stem → bytes of both files."""
        self._bytes = 0
        self._removed = (0, 0)
        self._memory: collections.deque[DeadLetter] = collections.deque(maxlen=_KEPT_IN_MEMORY)

    def open(self) -> None:
        """Take stock of the letters an earlier run left (blocking), and keep within the
        bound, which may have been lowered since."""
        if self._dir is None:
            return
        sizes: dict[str, int] = {}
        with contextlib.suppress(FileNotFoundError):
            for path in self._dir.iterdir():
                stem = path.name.split(".", 1)[0]
                with contextlib.suppress(FileNotFoundError):
                    sizes[stem] = sizes.get(stem, 0) + path.stat().st_size
        with self._lock:
            self._kept = collections.OrderedDict(sorted(sizes.items()))
            self._bytes = sum(sizes.values())
            self._bound()

    def add(self, item: Queued, letter: DeadLetter) -> None:
        """Keep ``item`` as refused with ``letter`` (blocking), then remove the oldest
        letters while over the bound."""
        if self._dir is None:
            with self._lock:
                self._memory.append(letter)
            return
        self._dir.mkdir(parents=True, exist_ok=True)
        stem = f"{item.seq:020d}"
        about = {
            "seq": letter.seq,
            "signal": letter.signal.value,
            "tenant": letter.tenant,
            "answer": letter.answer,
            "timeUnixMs": round(letter.at * 1000),
        }
        text = (json.dumps(about) + "\n").encode()
        (self._dir / f"{stem}.{item.signal.value}.pb").write_bytes(item.body)
        (self._dir / f"{stem}.json").write_bytes(text)
        with self._lock:
            # A sequence number seen again (a queue started afresh): the files were replaced.
            self._bytes -= self._kept.pop(stem, 0)
            self._kept[stem] = len(item.body) + len(text)
            self._bytes += len(item.body) + len(text)
            self._bound()

    def latest(self, limit: int) -> list[DeadLetter]:
        """The latest ``limit`` letters, newest first (blocking: reads their JSON)."""
        with self._lock:
            if self._dir is None:
                return list(reversed(self._memory))[:limit]
            stems = list(reversed(self._kept))[:limit]
        letters = []
        for stem in stems:
            with contextlib.suppress(OSError, ValueError, KeyError):
                about = json.loads((self._dir / f"{stem}.json").read_text())
                letters.append(
                    DeadLetter(
                        int(about["seq"]),
                        Signal(about["signal"]),
                        str(about["tenant"]),
                        str(about["answer"]),
                        about["timeUnixMs"] / 1000,
                    )
                )
        return letters

    def report(self) -> DeadLetterReport:
        with self._lock:
            count = len(self._memory) if self._dir is None else len(self._kept)
            return DeadLetterReport(count, self._bytes, *self._removed)

    def _bound(self) -> None:
        """Remove the oldest letters while over the bound (the lock held)."""
        assert self._dir is not None
        requests, size = self._removed
        while self._bytes > self._max_bytes and len(self._kept) > 1:
            stem, taken = self._kept.popitem(last=False)
            for path in self._dir.glob(f"{stem}.*"):
                path.unlink(missing_ok=True)
            self._bytes -= taken
            requests, size = requests + 1, size + taken
        self._removed = (requests, size)

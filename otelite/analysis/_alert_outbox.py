"""The notifier's outbox: every alert to deliver, durable before ``enqueue`` returns.

A SQLite database (the standard library's), in WAL mode with ``synchronous=FULL``: each
commit is fsynced before it returns. SQLite rather than an append-only log of our own,
because the outbox is mostly *updated*: each alert is delivered to several receivers at
their own pace, and each delivery is marked delivered (or dead) on its own. A log would
need acknowledgement records, a replay that folds them, and compaction; SQLite gives the
same atomic commit with a row per delivery, an index to find what is pending, and
deletion for free, and survives ``kill -9`` at any instruction (its journal is rolled
back or forward when the file is next opened).

Two tables:

* ``events``: one row per alert state enqueued, in order (``seq``), with its fingerprint
  and its webhook JSON, and when it was enqueued;
* ``deliveries``: one row per (receiver, event): ``pending``, then ``delivered`` or
  ``dead``. A dead delivery keeps the reason: the receiver's answer to a refused post (a
  4xx other than 408 and 429), or that the alert was older than the retry budget. This is
  the dead-letter record; ``GET /api/alerts/receivers`` shows the latest ones.

Delivered and dead rows are kept for ``keep_seconds`` and then pruned, with the events no
delivery needs any more. Receivers are named in the rows, so that a receiver added later
does not get old alerts and one removed keeps its pending deliveries until it returns.

One connection, shared by the event loop's threads under a lock; every call is short.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from otelite.analysis._alert_events import AlertEvent

__all__ = ["OUTBOX_FILE", "Backlog", "DeadLetter", "Outbox", "Pending"]

OUTBOX_FILE = "alerts-outbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint TEXT NOT NULL,
    alert TEXT NOT NULL,
    enqueued_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    receiver TEXT NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    answer TEXT,
    done_at REAL,
    PRIMARY KEY (receiver, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deliveries_by_state ON deliveries (receiver, state, seq);
"""
# Added later: outboxes written before it gain the column when opened.
_KEYED = """
CREATE UNIQUE INDEX IF NOT EXISTS events_by_key ON events (key) WHERE key IS NOT NULL;
"""


@dataclass(frozen=True, slots=True)
class Pending:
    """An alert state still to deliver to a receiver."""

    seq: int
    alert: AlertEvent
    enqueued_at: float


@dataclass(frozen=True, slots=True)
class Backlog:
    """What a receiver still has to get: how many alert states, since when (None: none)."""

    pending: int
    oldest_enqueued_at: float | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An alert state given up on, and why."""

    seq: int
    fingerprint: str
    alert: AlertEvent
    answer: str
    at: float


class Outbox:
    """The durable outbox at ``path`` (None: in memory, for ``--memory``)."""

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path),
            check_same_thread=False,
            isolation_level=None,
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: in WAL mode, the log is fsynced at every commit, so a commit that
            # returned survives a crash of the process or of the machine.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(events)")}
            if "key" not in columns:
                self._db.execute("ALTER TABLE events ADD COLUMN key TEXT")
            self._db.executescript(_KEYED)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, alerts: Sequence[AlertEvent], receivers: Iterable[str], now: float) -> list[int]:
        """Keep ``alerts`` for each of ``receivers``, in one fsynced transaction; their seqs.
        An alert whose ``key`` the outbox already holds is not kept again (nor numbered)."""
        names = list(receivers)
        seqs: list[int] = []
        with self._transaction() as db:
            for alert in alerts:
                key = alert.key or None
                if (
                    key is not None
                    and db.execute("SELECT 1 FROM events WHERE key = ?", (key,)).fetchone()
                ):
                    continue
                cursor = db.execute(
                    "INSERT INTO events (fingerprint, alert, enqueued_at, key) VALUES (?, ?, ?, ?)",
                    (alert.fingerprint, json.dumps(alert.to_json()), now, key),
                )
                assert cursor.lastrowid is not None
                seqs.append(cursor.lastrowid)
            db.executemany(
                "INSERT INTO deliveries (receiver, seq, state) VALUES (?, ?, 'pending')",
                [(name, seq) for seq in seqs for name in names],
            )
        return seqs

    def pending(self, receiver: str, limit: int) -> list[Pending]:
        """The first ``limit`` alert states still to deliver to ``receiver``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT e.seq, e.alert, e.enqueued_at FROM deliveries d "
                "JOIN events e ON e.seq = d.seq "
                "WHERE d.receiver = ? AND d.state = 'pending' ORDER BY d.seq LIMIT ?",
                (receiver, limit),
            ).fetchall()
        return [Pending(seq, AlertEvent.from_json(json.loads(text)), at) for seq, text, at in rows]

    def mark_delivered(self, receiver: str, seqs: Sequence[int], now: float) -> None:
        """``receiver`` acknowledged these: never send them again (fsynced on return)."""
        self._finish(receiver, seqs, "delivered", None, now)

    def mark_dead(self, receiver: str, seqs: Sequence[int], answer: str, now: float) -> None:
        """Give up delivering these to ``receiver``, keeping ``answer`` as the reason."""
        self._finish(receiver, seqs, "dead", answer, now)

    def backlog(self, receiver: str) -> Backlog:
        with self._lock:
            count, oldest = self._db.execute(
                "SELECT count(*), min(e.enqueued_at) FROM deliveries d "
                "JOIN events e ON e.seq = d.seq "
                "WHERE d.receiver = ? AND d.state = 'pending'",
                (receiver,),
            ).fetchone()
        return Backlog(count, oldest)

    def receivers_with_pending(self) -> list[str]:
        """Every receiver some pending delivery names (also ones no longer configured)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT receiver FROM deliveries WHERE state = 'pending'"
            ).fetchall()
        return sorted(name for (name,) in rows)

    def dead_letters(self, receiver: str, limit: int) -> list[DeadLetter]:
        """The latest alert states given up on for ``receiver``, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT e.seq, e.fingerprint, e.alert, d.answer, d.done_at FROM deliveries d "
                "JOIN events e ON e.seq = d.seq "
                "WHERE d.receiver = ? AND d.state = 'dead' ORDER BY d.seq DESC LIMIT ?",
                (receiver, limit),
            ).fetchall()
        return [
            DeadLetter(seq, fingerprint, AlertEvent.from_json(json.loads(text)), answer, at)
            for seq, fingerprint, text, answer, at in rows
        ]

    def prune(self, before: float) -> int:
        """Forget deliveries finished before ``before`` and events nothing needs; how many
        deliveries were forgotten."""
        with self._transaction() as db:
            deleted = db.execute(
                "DELETE FROM deliveries WHERE state != 'pending' AND done_at < ?", (before,)
            ).rowcount
            db.execute("DELETE FROM events WHERE seq NOT IN (SELECT seq FROM deliveries)")
        return deleted

    def _finish(
        self, receiver: str, seqs: Sequence[int], state: str, answer: str | None, now: float
    ) -> None:
        with self._transaction() as db:
            db.executemany(
                "UPDATE deliveries SET state = ?, answer = ?, done_at = ? "
                "WHERE receiver = ? AND seq = ? AND state = 'pending'",
                [(state, answer, now, receiver, seq) for seq in seqs],
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed (and fsynced) when the block ends, rolled back
        when it raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

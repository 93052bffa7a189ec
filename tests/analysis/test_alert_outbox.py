"""The outbox on its own: pending per receiver in order, marks that stick across a
reopen, and pruning that forgets only what is finished and old."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from otelite.analysis import OUTBOX_FILE, AlertEvent
from otelite.analysis._alert_outbox import Outbox

T0 = datetime(2026, 12, 7, tzinfo=UTC)


def alert(n: int) -> AlertEvent:
    return AlertEvent({"alertname": "A", "n": str(n)}, "firing", T0)


def test_marks_survive_a_reopen_and_each_receiver_keeps_its_own(tmp_path: Path) -> None:
    path = tmp_path / OUTBOX_FILE
    outbox = Outbox(path)
    seqs = outbox.add([alert(0), alert(1), alert(2)], ["a", "b"], now=100.0)
    outbox.mark_delivered("a", seqs[:2], now=101.0)
    outbox.mark_dead("b", seqs[:1], "HTTP 400: no", now=101.0)
    outbox.close()
    outbox = Outbox(path)
    try:
        assert [p.alert for p in outbox.pending("a", 10)] == [alert(2)]
        assert [p.alert for p in outbox.pending("b", 10)] == [alert(1), alert(2)]
        assert [p.alert for p in outbox.pending("b", 1)] == [alert(1)]
        assert outbox.backlog("b").pending == 2 and outbox.backlog("b").oldest_enqueued_at == 100.0
        assert outbox.backlog("c").pending == 0 and outbox.backlog("c").oldest_enqueued_at is None
        assert outbox.receivers_with_pending() == ["a", "b"]
        [letter] = outbox.dead_letters("b", 10)
        assert letter.alert == alert(0) and letter.answer == "HTTP 400: no" and letter.at == 101.0
        # A second mark changes nothing: a delivered state never turns dead, or back.
        outbox.mark_dead("a", seqs[:1], "late", now=102.0)
        assert outbox.dead_letters("a", 10) == []
    finally:
        outbox.close()


def test_pruning_forgets_finished_old_deliveries_only() -> None:
    outbox = Outbox(None)
    try:
        seqs = outbox.add([alert(0), alert(1)], ["a"], now=100.0)
        outbox.mark_delivered("a", seqs[:1], now=200.0)
        assert outbox.prune(before=200.0) == 0  # finished at 200: not before it
        assert outbox.prune(before=300.0) == 1
        assert [p.alert for p in outbox.pending("a", 10)] == [alert(1)]  # pending stays
        assert outbox.prune(before=1e12) == 0
    finally:
        outbox.close()


def test_a_state_handed_over_again_is_kept_once(tmp_path: Path) -> None:
    """After a crash between the outbox's commit and the hand-over's mark, the same changes
    come again: a state's key keeps it from being sent twice, across a reopen too."""
    path = tmp_path / OUTBOX_FILE
    keyed = [dataclasses.replace(alert(n), key=f"slo:k{n}:firing:1") for n in range(2)]
    outbox = Outbox(path)
    first = outbox.add(keyed, ["a"], now=100.0)
    outbox.close()
    outbox = Outbox(path)
    try:
        assert outbox.add([keyed[1], alert(9)], ["a"], now=101.0) == [first[-1] + 1]
        pending = [p.alert.to_json() for p in outbox.pending("a", 10)]
        assert pending == [a.to_json() for a in (*keyed, alert(9))]
        # Without a key, nothing is known to be the same: kept again.
        assert len(outbox.add([alert(9)], ["a"], now=102.0)) == 1
    finally:
        outbox.close()


def test_an_outbox_from_before_keys_gains_them(tmp_path: Path) -> None:
    path = tmp_path / OUTBOX_FILE
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, fingerprint TEXT NOT NULL,"
        " alert TEXT NOT NULL, enqueued_at REAL NOT NULL);"
    )
    db.execute(
        "INSERT INTO events (fingerprint, alert, enqueued_at) VALUES (?, ?, ?)",
        (alert(0).fingerprint, json.dumps(alert(0).to_json()), 1.0),
    )
    db.commit()
    db.close()
    outbox = Outbox(path)
    try:
        keyed = dataclasses.replace(alert(1), key="slo:x:firing:1")
        assert len(outbox.add([keyed], ["a"], now=2.0)) == 1
        assert outbox.add([keyed], ["a"], now=3.0) == []
    finally:
        outbox.close()

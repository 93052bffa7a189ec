"""Real process deaths (``kill -9``) of a notifier: nothing enqueued is lost, nothing
acknowledged and marked is sent again, and a death between a receiver's 2xx and the mark
repeats that one post at most.

A child process runs the notifier on an outbox directory, posting one alert per post to
a real webhook receiver in this process; it dies at a chosen moment, and a notifier in
this process restarts on the same directory and delivers what is left."""

from __future__ import annotations

import asyncio
import collections
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from otelite.analysis import OUTBOX_FILE, Notifier
from otelite.config import Webhook
from otelite.otlp import Backoff

from .webhook_sink import Sink, serve_sink

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ALERTS = 12

_CHILD = """
import asyncio, os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from otelite.analysis import OUTBOX_FILE, AlertEvent, Notifier
from otelite.config import Webhook
from otelite.otlp import Backoff

directory, url, mode = sys.argv[1], sys.argv[2], sys.argv[3]
T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)

async def main():
    n = Notifier(
        [Webhook(url, "sink")],
        outbox_path=Path(directory) / OUTBOX_FILE,
        external_url="http://otelite.test",
        backoff=Backoff(initial=0.01, maximum=0.05, budget=3600.0),
        max_alerts_per_post=1,
    )
    await n.start()
    print(os.getpid(), flush=True)
    sys.stdin.readline()  # the test is ready for our posts
    await n.notify([AlertEvent({"alertname": "Crash", "n": str(i)}, "firing", T0)
                    for i in range(int(sys.argv[4]))])
    if mode == "after-enqueue":
        os.kill(os.getpid(), signal.SIGKILL)
    while n.reports()[0].pending:
        await asyncio.sleep(0.005)
    if mode == "after-mark":
        os.kill(os.getpid(), signal.SIGKILL)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def _child(directory: Path, url: str, mode: str, sink: Sink) -> None:
    """Run the child until it dies; ``sink.kill_pid`` is its pid before it posts."""
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_CHILD), str(directory), url, mode, str(ALERTS)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        sink.kill_pid = int(process.stdout.readline())
        process.stdin.write("go\n")
        process.stdin.flush()
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    assert process.returncode == -signal.SIGKILL


def _restart(directory: Path, url: str) -> None:
    """A fresh notifier on the same outbox, until it has nothing pending."""

    async def run() -> None:
        n = Notifier(
            [Webhook(url, "sink")],
            outbox_path=directory / OUTBOX_FILE,
            external_url="http://otelite.test",
            backoff=Backoff(initial=0.01, maximum=0.05, budget=3600.0),
        )
        await n.start()
        for _ in range(2000):
            if (await asyncio.to_thread(n.reports))[0].pending == 0:
                break
            await asyncio.sleep(0.01)
        await n.shutdown()

    asyncio.run(run())


def _deliveries(sink: Sink) -> collections.Counter[int]:
    """How many times each alert was acknowledged by the receiver."""
    return collections.Counter(int(a["labels"]["n"]) for a in sink.delivered_alerts())


def test_killed_after_enqueue_nothing_is_lost(tmp_path: Path) -> None:
    sink = Sink(script=["503"] * 10_000)  # nothing is acknowledged before the death
    with serve_sink(sink) as url:
        _child(tmp_path, url, "after-enqueue", sink)
        assert sink.delivered() == []
        sink.script.clear()
        _restart(tmp_path, url)
    assert _deliveries(sink) == dict.fromkeys(range(ALERTS), 1)


def test_killed_after_the_marks_nothing_is_repeated(tmp_path: Path) -> None:
    sink = Sink()
    with serve_sink(sink) as url:
        _child(tmp_path, url, "after-mark", sink)
        assert _deliveries(sink) == dict.fromkeys(range(ALERTS), 1)
        _restart(tmp_path, url)
    assert _deliveries(sink) == dict.fromkeys(range(ALERTS), 1)


def test_killed_between_a_2xx_and_its_mark_repeats_one_post_at_most(tmp_path: Path) -> None:
    # The sixth post is answered 200, then the sender is killed: before or after its mark.
    sink = Sink(script=["ok"] * 5 + ["ok+kill"])
    with serve_sink(sink) as url:
        _child(tmp_path, url, "run", sink)
        _restart(tmp_path, url)
    counts = _deliveries(sink)
    assert set(counts) == set(range(ALERTS)), "every alert arrives"
    assert all(counts[n] == 1 for n in range(5)), "marked before the death: once"
    repeated = [n for n, times in counts.items() if times > 1]
    # One post is in flight at a time: only it can be sent twice.
    assert len(repeated) <= 1 and all(counts[n] == 2 for n in repeated)

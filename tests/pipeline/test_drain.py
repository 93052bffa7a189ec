"""The Retry-After of a full queue: waiting bytes over the recent store rate."""

from __future__ import annotations

from otelite.pipeline._drain import DrainEstimate


def test_waiting_bytes_over_the_recent_rate_in_whole_seconds() -> None:
    drain = DrainEstimate(ceiling=30)
    for tick in range(9):  # 10 MB/s for two seconds
        drain.note(tick * 2_500_000, now=100 + tick * 0.25)
    assert drain.seconds(25_000_000, 20_000_000, now=102.0) == 3.0  # 2.5 s, rounded
    assert drain.seconds(24_000_000, 20_000_000, now=102.0) == 2.0  # 2.4 s
    assert drain.seconds(1_000, 20_000_000, now=102.0) == 1.0  # never under the floor
    assert drain.seconds(10**12, 20_000_000, now=102.0) == 30.0  # nor over the ceiling


def test_a_store_that_stored_nothing_lately_gets_the_ceiling() -> None:
    drain = DrainEstimate(ceiling=5)
    assert drain.seconds(1_000_000, 0, now=10.0) == 5.0  # no history yet
    for tick in range(8):
        drain.note(7_000, now=10.0 + tick * 0.5)  # stuck: storage is failing
    assert drain.seconds(1_000_000, 7_000, now=14.0) == 5.0


def test_only_the_last_few_seconds_count() -> None:
    drain = DrainEstimate(ceiling=60)
    drain.note(0, now=0.0)
    drain.note(100_000_000, now=1.0)  # fast long ago
    for tick in range(13):  # then 1 MB/s
        drain.note(100_000_000 + tick * 250_000, now=20.0 + tick * 0.25)
    assert drain.seconds(6_000_000, 103_000_000, now=23.0) == 6.0

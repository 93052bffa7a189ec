from __future__ import annotations

import random
from datetime import UTC, datetime

from otelite.otlp import Backoff, retry_after_seconds


def test_backoff_doubles_with_jitter_up_to_the_maximum() -> None:
    backoff = Backoff(initial=1.0, maximum=4.0, rng=random.Random(7))
    waits = backoff.waits()
    bases = [1, 2, 4, 4, 4]
    for base in bases:
        assert 0.5 * base <= next(waits) <= 1.5 * base


def test_retry_after_seconds() -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC)
    assert retry_after_seconds("5") == 5.0
    assert retry_after_seconds("Mon, 01 Jan 2024 00:00:07 GMT", now=now) == 7.0
    assert retry_after_seconds("Sun, 31 Dec 2023 00:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None

"""Receivers run on an event loop in a background thread; tests are their real clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import LoopThread


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.close()

"""What a query language keeps of a store between queries, while the store is open.

PromQL keeps its catalog and the labels of series identities; LogQL the attribute key
sets behind hashes. Each is one object per store (:class:`PerStore`), made on first use
and gone with the store; values that never change once read (what a hash names) are
kept up to a limit, past which they are all forgotten and read again
(:func:`keep_at_most`).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

from otelite.storage import Storage

__all__ = ["PerStore", "keep_at_most"]

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


class PerStore(Generic[T]):
    """One ``T`` per store, made by ``factory`` on first use; ``lock`` guards changes
    to it."""

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._kept: weakref.WeakKeyDictionary[Storage, T] = weakref.WeakKeyDictionary()
        self.lock = threading.Lock()

    def __call__(self, storage: Storage) -> T:
        with self.lock:
            found = self._kept.get(storage)
            if found is None:
                found = self._kept[storage] = self._factory()
            return found


def keep_at_most(kept: dict[K, V], new: Mapping[K, V], limit: int) -> None:
    """Add ``new`` to ``kept``, forgetting all it held first where that would pass
    ``limit`` (the caller holds the lock)."""
    if len(kept) + len(new) > limit:
        kept.clear()
    kept.update(new)

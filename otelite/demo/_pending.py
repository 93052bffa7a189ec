"""Encoded records waiting to leave, and how they become OTLP export requests.

Spans and log records are kept in arrival order, each with the instance that wrote it;
``take`` cuts exactly ``n`` of them into one request, grouped by instance (resource) as an
SDK's batch processor would. Traces and logs share the envelope layout:
``request.1 = Resource*{resource = 1, Scope* = 2 {scope = 1, records = 2}}``.
"""

from __future__ import annotations

from otelite.demo import _wire
from otelite.demo._topology import Instance

__all__ = ["Pending"]


class Pending:
    """A queue of encoded records (``spans`` or ``log_records`` fields) of many instances."""

    __slots__ = ("_records",)

    def __init__(self) -> None:
        self._records: list[tuple[Instance, bytes]] = []

    def __len__(self) -> int:
        return len(self._records)

    def add(self, instance: Instance, record: bytes) -> None:
        """Queue one encoded record of ``instance``."""
        self._records.append((instance, record))

    def take(self, n: int) -> tuple[bytes, int]:
        """The oldest ``n`` records (or fewer, if fewer wait) as a serialised request."""
        chosen = self._records[:n]
        del self._records[:n]
        groups: dict[int, tuple[Instance, list[bytes]]] = {}
        for instance, record in chosen:
            group = groups.get(instance.key)
            if group is None:
                groups[instance.key] = (instance, [record])
            else:
                group[1].append(record)
        parts = []
        for instance, records in groups.values():
            scope = _wire.field(0x12, instance.scope_field + b"".join(records))
            parts.append(_wire.field(0x0A, instance.envelope + scope))
        return b"".join(parts), len(chosen)

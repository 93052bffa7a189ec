"""Times as alert APIs write them."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["rfc3339"]


def rfc3339(ns: int) -> str:
    """Unix nanoseconds as RFC 3339 in UTC, to the nanosecond (as Prometheus writes them)."""
    moment = datetime.fromtimestamp(ns // 1_000_000_000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ns % 1_000_000_000:09d}Z"

"""Where telemetry is kept. One sub-package per backend; callers see only ``Storage``."""

from __future__ import annotations

from otelite.storage._base import Storage, WriteBatch

__all__ = ["Storage", "WriteBatch"]

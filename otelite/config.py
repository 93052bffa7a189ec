"""Settings of one otelite process, with their defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Config", "Limits", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
    "d": 86400.0,
    "w": 7 * 86400.0,
}


def parse_duration(text: str) -> float:
    """``"7d"``, ``"90m"``, ``"1.5s"``, ``"250ms"`` → seconds. A bare number is seconds."""
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 15m, 6h, 7d)")
    number, unit = match.groups()
    return float(number) * _UNIT_SECONDS[unit or "s"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one request may carry. Defaults follow the OTLP spec and peers."""

    max_request_bytes: int = 64 * 1024 * 1024
    """After decompression; the OTLP specification's recommended limit."""
    max_queue_bytes: int = 256 * 1024 * 1024
    """Accepted data waiting to be stored; beyond it, clients are told to retry."""
    retry_after_seconds: float = 5.0


@dataclass(frozen=True, slots=True)
class Config:
    """Everything ``otelite serve`` can be told."""

    data_dir: Path | None = Path("otelite-data")
    """None keeps everything in memory (``--memory``): nothing survives a restart."""
    host: str = "127.0.0.1"
    port: int = 3200
    otlp_grpc_port: int = 4317
    otlp_http_port: int = 4318
    retention_seconds: float | None = 7 * 86400.0
    limits: Limits = Limits()

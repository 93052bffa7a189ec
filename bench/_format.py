"""How figures read in BENCHMARKS.md: one formatter per kind of number."""

from __future__ import annotations

from collections.abc import Callable

from bench._stats import Summary

__all__ = [
    "DASH",
    "GIB",
    "MIB",
    "TIMES",
    "count",
    "mib",
    "ms",
    "rate",
    "ratio",
    "seconds",
    "summary_text",
]

DASH = "\u2013"  # en dash, for ranges in the Markdown
TIMES = "\u00d7"  # multiplication sign
GIB = 1024**3
MIB = 1024**2


def summary_text(summary: Summary, fmt: Callable[[float], str]) -> str:
    """The median, and the min-max in parentheses when there were several runs."""
    if summary.runs == 1:
        return fmt(summary.median)
    return f"{fmt(summary.median)} ({fmt(summary.low)}{DASH}{fmt(summary.high)})"


def rate(v: float) -> str:
    return f"{v:,.0f}"


def ms(v: float) -> str:
    """Seconds as milliseconds: one decimal below 100 ms."""
    return f"{v * 1000:.1f}" if v < 0.1 else f"{v * 1000:.0f}"


def seconds(v: float) -> str:
    return f"{v:.2f}"


def mib(v: float) -> str:
    return f"{v / MIB:,.0f} MiB"


def ratio(v: float) -> str:
    return f"{v:.2f}{TIMES}"


def count(n: int) -> str:
    """``1000000`` → ``1M``, ``30000`` → ``30k``; otherwise with thousands separators."""
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"

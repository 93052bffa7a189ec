"""What a selector asks of a source of series, and what the source answers.

A selector is a list of ``Matcher``; a ``Source`` answers it with a ``Selection``: the
series every matcher accepts, packed one after another in flat arrays, so that the
engine finds every series' samples at every step in one search. A source that has its
series one by one (``RawSeries``) packs them with ``Selection.of``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from otelite.query.promql._series import Floats, Labels, Times

__all__ = ["Matcher", "RawSeries", "Selection", "Source"]


@dataclass(frozen=True, slots=True)
class Matcher:
    """A label matcher; regular expressions match the whole value, as in Prometheus."""

    name: str
    op: str  # "=", "!=", "=~" or "!~"
    value: str

    def matches(self, value: str) -> bool:
        if self.op == "=":
            return value == self.value
        if self.op == "!=":
            return value != self.value
        found = re.fullmatch(f"(?:{self.value})", value, re.DOTALL) is not None
        return found if self.op == "=~" else not found


@dataclass(frozen=True, slots=True)
class RawSeries:
    """One stored series: its labels (``__name__`` included), its samples in time
    order, and which of them are staleness markers (the series ended there)."""

    labels: Labels
    times: Times
    values: Floats
    stale: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Selection:
    """Series packed one after another: series ``i`` (labelled ``labels[i]``) has the
    samples ``[offsets[i], offsets[i + 1])`` of ``times``, ``values`` and ``stale``, in
    time order."""

    labels: list[Labels]
    times: Times
    values: Floats
    stale: npt.NDArray[np.bool_]
    offsets: npt.NDArray[np.intp]

    @classmethod
    def of(cls, series: Sequence[RawSeries]) -> Selection:
        lengths = np.array([len(s.times) for s in series], dtype=np.intp)
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.intp)
        if not series:
            return cls([], np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool), offsets)
        return cls(
            [s.labels for s in series],
            np.concatenate([s.times for s in series]).astype(np.int64),
            np.concatenate([s.values for s in series]).astype(np.float64),
            np.concatenate([s.stale for s in series]).astype(bool),
            offsets,
        )

    @classmethod
    def joined(cls, parts: Sequence[Selection]) -> Selection:
        """The series of every part, one part after another."""
        if len(parts) == 1:
            return parts[0]
        ends = np.cumsum([0, *(len(p.times) for p in parts)])
        offsets = [p.offsets[:-1] + end for p, end in zip(parts, ends, strict=False)]
        return cls(
            [labels for p in parts for labels in p.labels],
            np.concatenate([np.zeros(0, np.int64), *(p.times for p in parts)]),
            np.concatenate([np.zeros(0), *(p.values for p in parts)]),
            np.concatenate([np.zeros(0, bool), *(p.stale for p in parts)]),
            np.concatenate([*offsets, [ends[-1]]]).astype(np.intp),
        )

    def __len__(self) -> int:
        return len(self.labels)

    def series(self, row: int) -> RawSeries:
        """One series (views of the arrays, not copies)."""
        part = slice(self.offsets[row], self.offsets[row + 1])
        return RawSeries(self.labels[row], self.times[part], self.values[part], self.stale[part])

    def without_stale(self) -> Selection:
        """The same series without their staleness markers."""
        keep = ~self.stale
        if keep.all():
            return self
        kept_before = np.concatenate(([0], np.cumsum(keep))).astype(np.intp)
        return Selection(
            self.labels,
            self.times[keep],
            self.values[keep],
            self.stale[keep],
            kept_before[self.offsets],
        )


class Source(Protocol):
    """Where selectors read series from."""

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> Selection:
        """The series every matcher accepts, with their samples in ``[start, end]``."""
        ...

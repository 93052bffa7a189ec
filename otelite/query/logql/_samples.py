"""The samples of a log range: a number per entry, under the labels its series is known
by, read through the whole pipeline in Python (``read_entries``).

As Loki's sample extractors make them (``pkg/logql/log/metrics_extraction.go``):

- without ``unwrap``, each entry is a sample of 1 (``count_over_time``, ``rate``,
  ``absent_over_time``) or of its line's length in bytes (``bytes_over_time``,
  ``bytes_rate``);
- with ``unwrap label``, of the label's value read as a float, a Go duration in seconds
  (``duration``, ``duration_seconds``) or a byte size (``bytes``); an entry without the
  label is no sample, one whose value does not convert is a sample of 0 with
  ``__error__=SampleExtractionErr`` (and Go's reason in ``__error_details__``), and the
  label filters after ``unwrap`` run last.

A series is known by every label the entry has (stream labels, structured metadata,
parsed labels), or by those a grouping keeps (``by``: only those; ``without``: all but
those); ``unwrap``'s own label is left out unless a ``by`` names it. An entry still
carrying an error fails the query, whatever the grouping, with Loki's message: errors
must be filtered (``| __error__=""``) or dropped to be counted.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from otelite.query._plan import Predicate
from otelite.query.logql._ast import Grouping, LogRange, Unwrap
from otelite.query.logql._conditions import condition_test, go_duration
from otelite.query.logql._entries import ERROR, EntryLabels, Labels
from otelite.query.logql._enums import Conversion
from otelite.query.logql._literals import read_bytes
from otelite.query.logql._read import Direction, ReadStats, read_entries
from otelite.query.logql._strconv import go_float
from otelite.query.promql import Budget, Matrix, QueryError, bounds
from otelite.storage import Storage

__all__ = ["SAMPLE_EXTRACTION_ERROR", "Extract", "PipelineError", "Samples", "read_samples"]

SAMPLE_EXTRACTION_ERROR = "SampleExtractionErr"


class PipelineError(QueryError):
    """An entry reached a metric with an error on it (Loki's ``pipeline error``)."""

    def __init__(self, labels: Labels) -> None:
        error = dict(labels).get(ERROR, "")
        shown = ", ".join(f'{name}="{value}"' for name, value in labels)
        super().__init__(
            f"pipeline error: '{error}' for series: '{{{shown}}}'.\n"
            f'Use a label filter to intentionally skip this error. (e.g | __error__!="{error}").\n'
            'To skip all potential errors you can match empty errors.(e.g __error__="")\n'
            "The label filter can also be specified after unwrap."
            ' (e.g | unwrap latency | __error__="" )\n'
        )


class Extract(enum.Enum):
    """What an entry without ``unwrap`` counts for."""

    LINES = "lines"
    BYTES = "bytes"


@dataclass(frozen=True, slots=True)
class Samples:
    """Series' samples packed one series after another (series ``i``'s are
    ``[offsets[i], offsets[i + 1])``), each series' in time order; times in Unix ns."""

    labels: list[Labels]
    times: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    offsets: npt.NDArray[np.intp]

    def windows(
        self, ends: npt.NDArray[np.int64], range_ns: int
    ) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """For each series and end, its samples in ``(end - range_ns, end]``: ``[lo, hi)``."""
        return bounds(self.offsets, self.times, ends - range_ns, ends)

    def matrix(self, ends: npt.NDArray[np.int64], range_ns: int) -> Matrix:
        """The samples as PromQL's range vector (in ns, which its functions of values
        alone do not mind)."""
        return Matrix(self.labels, self.times, self.values, self.offsets, range_ns, ends)


def read_samples(
    storage: Storage,
    source: LogRange,
    *,
    extract: Extract,
    grouping: Grouping | None,
    ends: npt.NDArray[np.int64],
    budget: Budget,
    stats: ReadStats,
    also: Predicate | None = None,
) -> Samples:
    """The samples of ``source`` in the windows ending at ``ends`` (offset already
    applied), by series; with ``also``, of the records that meet it only."""
    first = int(ends.min()) - source.range_ns
    last = int(ends.max())
    key = _series_key(grouping, source.unwrap)
    sample = _sampler(source.unwrap, extract)
    index: dict[Labels, int] = {}
    series: list[npt.NDArray[np.intp]] = []
    times: list[npt.NDArray[np.int64]] = []
    values: list[npt.NDArray[np.float64]] = []
    batches = read_entries(
        storage,
        source.query,
        start_ns=first + 1,
        end_ns=last + 1,
        direction=Direction.FORWARD,
        budget=budget,
        stats=stats,
        also=also,
    )
    for batch in batches:
        rows: list[int] = []
        numbers: list[int] = []
        found: list[float] = []
        for row, (line, labels) in enumerate(zip(batch.lines, batch.labels, strict=True)):
            value = sample(line, labels)
            if value is None:
                continue
            if labels.error:
                raise PipelineError(_all(labels))
            rows.append(row)
            found.append(value)
            labels_key = key(labels)
            number = index.get(labels_key)
            if number is None:
                number = index[labels_key] = len(index)
            numbers.append(number)
        budget.spend(len(rows))
        series.append(np.asarray(numbers, dtype=np.intp))
        times.append(np.asarray(batch.times, dtype=np.int64)[rows])
        values.append(np.asarray(found, dtype=np.float64))
    return _packed(list(index), series, times, values)


def _packed(
    labels: list[Labels],
    series: list[npt.NDArray[np.intp]],
    times: list[npt.NDArray[np.int64]],
    values: list[npt.NDArray[np.float64]],
) -> Samples:
    if not labels:
        empty = np.zeros(0, dtype=np.int64)
        return Samples([], empty, np.zeros(0), np.zeros(1, dtype=np.intp))
    which = np.concatenate(series)
    at = np.concatenate(times)
    order = np.lexsort((at, which))  # stable: ties keep the order read
    counts = np.bincount(which, minlength=len(labels))
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.intp)
    return Samples(labels, at[order], np.concatenate(values)[order], offsets)


def _all(labels: EntryLabels) -> Labels:
    return tuple(sorted((name, value) for name, value in labels.items() if value))


def _series_key(
    grouping: Grouping | None, unwrap: Unwrap | None
) -> Callable[[EntryLabels], Labels]:
    """The labels an entry's series is known by (Loki's ``GroupedLabels``)."""
    if grouping is not None and not grouping.without:
        if not grouping.labels:
            return lambda labels: ()
        names = sorted(set(grouping.labels))

        def kept(labels: EntryLabels) -> Labels:
            pairs = ((name, labels.value(name)) for name in names)
            return tuple((name, value) for name, value in pairs if value)

        return kept
    dropped = set(grouping.labels) if grouping is not None else set()
    if unwrap is not None:
        dropped.add(unwrap.label)
    if not dropped:
        return _all

    def others(labels: EntryLabels) -> Labels:
        return tuple(sorted((n, v) for n, v in labels.items() if v and n not in dropped))

    return others


_Sampler = Callable[[str, EntryLabels], float | None]


def _sampler(unwrap: Unwrap | None, extract: Extract) -> _Sampler:
    """A function giving an entry's sample (None: the entry is none)."""
    if unwrap is None:
        if extract is Extract.BYTES:
            return lambda line, labels: float(len(line.encode()))
        return lambda line, labels: 1.0
    convert = _CONVERSIONS[unwrap.conversion]
    filters = [condition_test(condition) for condition in unwrap.filters]
    name = unwrap.label

    def sample(line: str, labels: EntryLabels) -> float | None:
        text = labels.get(name)
        if not text:
            return None
        try:
            value = convert(text)
        except ValueError as problem:
            value = 0.0
            labels.set_error(SAMPLE_EXTRACTION_ERROR, str(problem))
        for test in filters:
            if not test(labels):
                return None
        return value

    return sample


def _seconds(text: str) -> float:
    """A Go duration in seconds, as Go's ``Duration.Seconds`` computes them."""
    ns = int(go_duration(text))
    whole = abs(ns) // 10**9 * (1 if ns >= 0 else -1)
    return whole + (ns - whole * 10**9) / 1e9


_CONVERSIONS: dict[Conversion | None, Callable[[str], float]] = {
    None: go_float,
    Conversion.DURATION: _seconds,
    Conversion.DURATION_SECONDS: _seconds,
    Conversion.BYTES: lambda text: float(read_bytes(text)),
}

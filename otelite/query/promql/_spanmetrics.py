"""Metrics from stored spans, under the names Tempo's metrics-generator gives them.

``traces_spanmetrics_calls_total`` counts spans and ``traces_spanmetrics_latency``
(``_bucket``/``_sum``/``_count``, seconds) is their durations' histogram, both by
``service``, ``span_name``, ``span_kind`` and ``status_code`` (``SPAN_KIND_SERVER``,
``STATUS_CODE_ERROR``, as Tempo writes them). They are computed when a query selects
them, from the spans of the time it reads, so they always agree with the stored spans:
the database counts spans per step, latency bucket and label set
(``span_metric_plan``), and the counts add up here into counters with a sample at the
end of every step (15 seconds, or coarser over long ranges). A counter counts the spans
since midnight (UTC) and starts again at zero each midnight, as a process restarting
daily would: its value at a time is the same whatever query asks, and ``rate``,
``increase`` and ``histogram_quantile`` read the restart as the counter reset it is.

The latency buckets are Tempo's defaults: 2 ms doubling up to 16.384 s, then ``+Inf``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.query._plan import Arithmetic, ArithmeticOp, Column, Literal, Select, TimeRange
from otelite.query._span_metrics import SpanMetric, span_metric_plan
from otelite.query.promql._engine import Matcher, RawSeries
from otelite.query.promql._series import NAME, format_value, labels_of

__all__ = ["SPAN_METRICS", "SPAN_METRIC_SERIES", "selects_span_metrics", "span_metric_series"]

CALLS = "traces_spanmetrics_calls_total"
LATENCY = "traces_spanmetrics_latency"
SPAN_METRICS = {
    CALLS: ("counter", "", "Spans, by service, span name, kind and status"),
    LATENCY: ("histogram", "seconds", "Span durations, by service, span name, kind and status"),
}
"""Each family: its type, unit and help."""
SPAN_METRIC_SERIES = (CALLS, f"{LATENCY}_bucket", f"{LATENCY}_sum", f"{LATENCY}_count")
"""The series names the span metrics make."""
_FIRST_BOUND_NS = 2_000_000
_BOUNDS = 14  # 0.002 s .. 16.384 s
_MIN_STEP_MS = 15_000
_DAY_MS = 86_400_000
_MAX_STEPS = 2_000
_NS_PER_MS = 1_000_000
_KINDS: dict[int, str] = {int(number): name for name, number in Span.SpanKind.items()}
_STATUS_NAMES: dict[int, str] = {int(number): name for name, number in Status.StatusCode.items()}
_LABELS = ("service", "span_name", "span_kind", "status_code")

Rows = Callable[[Select], pa.Table]


def selects_span_metrics(matchers: list[Matcher]) -> list[str]:
    """The span metric series names the ``__name__`` matchers accept."""
    naming = [m for m in matchers if m.name == NAME]
    return [name for name in SPAN_METRIC_SERIES if all(m.matches(name) for m in naming)]


def span_metric_series(
    rows: Rows, names: list[str], matchers: list[Matcher], start_ms: int, end_ms: int
) -> list[RawSeries]:
    """The series ``names`` (among the span metrics) over ``[start, end]`` that every
    matcher accepts."""
    if not names:
        return []
    step_ms = _step(start_ms, end_ms)
    first = start_ms // step_ms * step_ms
    steps = (end_ms - first) // step_ms + 1
    # Counters count from midnight (UTC): spans of the day before the first step first.
    midnight = first // _DAY_MS * _DAY_MS
    before = _Counts.read(rows, midnight, first, _DAY_MS, 1)
    during = _Counts.read(rows, first, first + steps * step_ms, step_ms, steps)
    keys = list(dict.fromkeys([*before.keys, *during.keys]))
    counts = during.aligned(keys)  # keys x steps x buckets
    durations = during.aligned_sums(keys)
    ends = first + (np.arange(steps, dtype=np.int64) + 1) * step_ms
    # A step's running total: its day's steps so far, and the day's spans before the
    # first step when it is that day. A step never straddles midnight (see _step).
    day = (ends - 1) // _DAY_MS
    opening = np.concatenate(([True], day[1:] != day[:-1]))
    restart = np.maximum.accumulate(np.where(opening, np.arange(steps), 0))
    counts = _running(counts, restart)
    durations = _running(durations, restart)
    same_day = day == day[0]
    counts[:, same_day] += before.aligned(keys)[:, 0][:, None, :]
    durations[:, same_day] += before.aligned_sums(keys)[:, 0][:, None]
    others = [m for m in matchers if m.name != NAME]
    found: list[RawSeries] = []
    for row, key in enumerate(keys):
        labels = dict(zip(_LABELS, key, strict=True))
        seen = np.flatnonzero(counts[row].sum(axis=1))
        if not len(seen):
            continue
        since = int(seen[0])
        times = ends[since:]
        by_bucket = np.cumsum(counts[row, since:], axis=1)  # over the bounds
        series: dict[str, np.ndarray] = {
            CALLS: by_bucket[:, -1],
            f"{LATENCY}_count": by_bucket[:, -1],
            f"{LATENCY}_sum": durations[row, since:] / 1e9,
        }
        made: list[tuple[dict[str, str], np.ndarray]] = []
        for name in names:
            if name != f"{LATENCY}_bucket":
                made.append(({**labels, NAME: name}, series[name]))
                continue
            for k in range(_BOUNDS + 1):
                bound = np.inf if k == _BOUNDS else _FIRST_BOUND_NS * 2**k / 1e9
                made.append(({**labels, NAME: name, "le": format_value(bound)}, by_bucket[:, k]))
        found.extend(
            _raw(full, times, values)
            for full, values in made
            if all(m.matches(full.get(m.name, "")) for m in others)
        )
    return found


def _running(values: np.ndarray, restart: np.ndarray) -> np.ndarray:
    """Totals over the steps (axis 1), starting again at each step ``restart`` names."""
    total = np.cumsum(values, axis=1)
    before = np.concatenate((np.zeros_like(total[:, :1]), total[:, :-1]), axis=1)
    result: np.ndarray = total - before[:, restart]
    return result


def _raw(labels: dict[str, str], times: np.ndarray, values: np.ndarray) -> RawSeries:
    return RawSeries(
        labels_of(labels), times, values.astype(np.float64), np.zeros(len(times), dtype=bool)
    )


def _step(start_ms: int, end_ms: int) -> int:
    """15 seconds, or the smallest multiple of it that divides a day and keeps a series
    under 2,000 samples."""
    needed = -(-(end_ms - start_ms) // _MAX_STEPS)
    per_day = _DAY_MS // _MIN_STEP_MS
    multiple = next(
        (m for m in range(1, per_day + 1) if per_day % m == 0 and m * _MIN_STEP_MS >= needed),
        per_day,
    )
    return multiple * _MIN_STEP_MS


def _key(service: Any, name: Any, kind: Any, status: Any) -> tuple[str, ...]:
    return (
        str(service or ""),
        str(name or ""),
        _KINDS.get(int(kind or 0), "SPAN_KIND_UNSPECIFIED"),
        _STATUS_NAMES.get(int(status or 0), "STATUS_CODE_UNSET"),
    )


class _Counts:
    """Spans per label set, step and latency bucket, and their total duration, over
    ``[start, end)`` in steps of ``step_ms``, as the database counted them."""

    def __init__(self, keys: list[tuple[str, ...]], counts: np.ndarray, sums: np.ndarray):
        self.keys, self._counts, self._sums = keys, counts, sums

    @classmethod
    def read(cls, rows: Rows, start: int, end: int, step_ms: int, steps: int) -> _Counts:
        if end <= start:
            return cls([], np.zeros((0, steps, _BOUNDS + 1)), np.zeros((0, steps)))
        time = TimeRange(start * _NS_PER_MS, end * _NS_PER_MS)
        by = [Column("ServiceName"), Column("SpanName"), Column("SpanKind"), Column("StatusCode")]
        step_ns = step_ms * _NS_PER_MS
        scaled = Arithmetic(ArithmeticOp.DIV, Column("Duration"), Literal(_FIRST_BOUND_NS))
        histogram = rows(
            span_metric_plan(
                SpanMetric.HISTOGRAM, where=None, time=time, step_ns=step_ns, field=scaled, by=by
            )
        ).to_pylist()
        durations = rows(
            span_metric_plan(
                SpanMetric.SUM,
                where=None,
                time=time,
                step_ns=step_ns,
                field=Column("Duration"),
                by=by,
            )
        ).to_pylist()
        index: dict[tuple[str, ...], int] = {}
        for row in histogram:
            index.setdefault(_key(row["by0"], row["by1"], row["by2"], row["by3"]), len(index))
        counts = np.zeros((len(index), steps, _BOUNDS + 1))
        sums = np.zeros((len(index), steps))

        def place(row: dict[str, Any]) -> tuple[int, int] | None:
            key = index.get(_key(row["by0"], row["by1"], row["by2"], row["by3"]))
            step = (int(row["bucket_ns"]) // _NS_PER_MS - start) // step_ms
            return None if key is None or not 0 <= step < steps else (key, step)

        for row in histogram:
            at = place(row)
            if at is not None:
                power = float(row["bucket"] or 0.0)
                k = 0 if power <= 1 else min(round(float(np.log2(power))), _BOUNDS)
                counts[at[0], at[1], k] += float(row["value"])
        for row in durations:
            at = place(row)
            if at is not None:
                sums[at] += float(row["value"] or 0.0)
        return cls(list(index), counts, sums)

    def aligned(self, keys: list[tuple[str, ...]]) -> np.ndarray:
        """The counts with a row per one of ``keys`` (zeros for those not counted)."""
        out = np.zeros((len(keys), self._counts.shape[1], _BOUNDS + 1))
        where = {key: n for n, key in enumerate(self.keys)}
        for n, key in enumerate(keys):
            if key in where:
                out[n] = self._counts[where[key]]
        return out

    def aligned_sums(self, keys: list[tuple[str, ...]]) -> np.ndarray:
        out = np.zeros((len(keys), self._sums.shape[1]))
        where = {key: n for n, key in enumerate(self.keys)}
        for n, key in enumerate(keys):
            if key in where:
                out[n] = self._sums[where[key]]
        return out

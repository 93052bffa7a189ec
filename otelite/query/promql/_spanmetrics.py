"""Metrics from stored spans, under the names Tempo's metrics-generator gives them.

- Span metrics: ``traces_spanmetrics_calls_total`` counts spans and
  ``traces_spanmetrics_latency`` (``_bucket``/``_sum``/``_count``, seconds) is their
  durations' histogram, by ``service``, ``span_name``, ``span_kind`` and ``status_code``
  (``SPAN_KIND_SERVER``, ``STATUS_CODE_ERROR``, as Tempo writes them).
- Service graph: ``traces_service_graph_request_total`` and ``..._failed_total`` count
  requests, a client (or producer) span with its server (or consumer) child, a database
  call, or a call to or from a service that sends no spans (a virtual node), as
  ``ServiceGraph`` finds them; ``..._server_seconds`` and ``..._client_seconds`` are the
  histograms of the two sides' durations, by ``client`` and ``server`` (and
  ``connection_type``: ``messaging_system``, ``database`` or ``virtual_node``).

They are computed when a query selects them, from the spans of the time it reads, so
they always agree with the stored spans, and count each span once however often a
client sent it (``SPAN_IDENTITY``): the database counts per step, latency bucket
and label set, and the counts add up here into counters with a sample at the end of
every step (15 seconds, or coarser over long ranges). A counter counts since midnight
(UTC) and starts again at zero each midnight, as a process restarting daily would: its
value at a time is the same whatever query asks, and ``rate``, ``increase`` and
``histogram_quantile`` read the restart as the counter reset it is.

The latency buckets are Tempo's span metrics defaults: 2 ms doubling up to 16.384 s,
then ``+Inf`` (the service graph's too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.query._plan import (
    SPAN_IDENTITY,
    Arithmetic,
    ArithmeticOp,
    Call,
    Column,
    Literal,
    Output,
    Plan,
    Select,
    ServiceGraph,
    Table,
    TimeRange,
)
from otelite.query.promql._selection import Matcher, RawSeries
from otelite.query.promql._series import NAME, format_value, labels_of

__all__ = ["DERIVED_FAMILIES", "DERIVED_SERIES", "derived_series", "selects_derived"]

_CALLS = "traces_spanmetrics_calls_total"
_LATENCY = "traces_spanmetrics_latency"
_REQUESTS = "traces_service_graph_request_total"
_FAILED = "traces_service_graph_request_failed_total"
_SERVER = "traces_service_graph_request_server_seconds"
_CLIENT = "traces_service_graph_request_client_seconds"
_BY_SPAN = "by service, span name, kind and status"
_BY_EDGE = "between a client and a server service"
DERIVED_FAMILIES = {
    _CALLS: ("counter", "", f"Spans, {_BY_SPAN}"),
    _LATENCY: ("histogram", "seconds", f"Span durations, {_BY_SPAN}"),
    _REQUESTS: ("counter", "", f"Requests {_BY_EDGE}"),
    _FAILED: ("counter", "", f"Requests {_BY_EDGE} where either span failed"),
    _SERVER: ("histogram", "seconds", f"Server span durations of requests {_BY_EDGE}"),
    _CLIENT: ("histogram", "seconds", f"Client span durations of requests {_BY_EDGE}"),
}
"""Each family derived from spans: its type, unit and help."""


@dataclass(frozen=True, slots=True)
class _Family:
    """How one derived family reads a tally: a count, or a histogram and its sum."""

    tally: str  # "spans" or "graph"
    array: str


_FAMILIES = {
    _CALLS: _Family("spans", "latency"),
    _LATENCY: _Family("spans", "latency"),
    _REQUESTS: _Family("graph", "server"),
    _FAILED: _Family("graph", "failed"),
    _SERVER: _Family("graph", "server"),
    _CLIENT: _Family("graph", "client"),
}
DERIVED_SERIES = tuple(
    name + suffix
    for name, (kind, _, _) in DERIVED_FAMILIES.items()
    for suffix in (("_bucket", "_sum", "_count") if kind == "histogram" else ("",))
)
"""The series names the derived families make."""

_FIRST_BOUND_NS = 2_000_000
_BOUNDS = 14  # 0.002 s .. 16.384 s
_MIN_STEP_MS = 15_000
_DAY_MS = 86_400_000
_MAX_STEPS = 2_000
_NS_PER_MS = 1_000_000
_KINDS: dict[int, str] = {int(number): name for name, number in Span.SpanKind.items()}
_STATUS_NAMES: dict[int, str] = {int(number): name for name, number in Status.StatusCode.items()}

Rows = Callable[[Plan], pa.Table]


def selects_derived(matchers: list[Matcher]) -> list[str]:
    """The derived series names the ``__name__`` matchers accept."""
    naming = [m for m in matchers if m.name == NAME]
    return [name for name in DERIVED_SERIES if all(m.matches(name) for m in naming)]


def _family_of(series: str) -> tuple[str, str]:
    """A series name's family and suffix (``_bucket``, ``_sum``, ``_count`` or ``""``)."""
    for suffix in ("_bucket", "_sum", "_count"):
        family = series.removesuffix(suffix)
        if family != series and DERIVED_FAMILIES.get(family, ("",))[0] == "histogram":
            return family, suffix
    return series, ""


def derived_series(
    rows: Rows, names: list[str], matchers: list[Matcher], start_ms: int, end_ms: int
) -> list[RawSeries]:
    """The series ``names`` (among the derived ones) over ``[start, end]`` that every
    matcher accepts."""
    if not names:
        return []
    step_ms = _step(start_ms, end_ms)
    first = start_ms // step_ms * step_ms
    steps = (end_ms - first) // step_ms + 1
    ends = first + (np.arange(steps, dtype=np.int64) + 1) * step_ms
    wanted = {_FAMILIES[_family_of(name)[0]].tally for name in names}
    tallies = {
        tally: _running(rows, tally, first, step_ms, steps, ends) for tally in sorted(wanted)
    }
    others = [m for m in matchers if m.name != NAME]
    found: list[RawSeries] = []
    for name in names:
        family, suffix = _family_of(name)
        spec = _FAMILIES[family]
        tally = tallies[spec.tally]
        for row, labels in enumerate(tally.labels):
            counts = tally.arrays[spec.array][row]
            seen = np.flatnonzero(counts.sum(axis=1) if counts.ndim == 2 else counts)
            if not len(seen):
                continue
            since = int(seen[0])
            times = ends[since:]
            made: list[tuple[dict[str, str], np.ndarray]] = []
            if counts.ndim == 1:  # a count (failed requests)
                made.append(({**labels, NAME: name}, counts[since:]))
            else:
                by_bucket = np.cumsum(counts[since:], axis=1)  # over the bounds
                if suffix == "_bucket":
                    for k in range(_BOUNDS + 1):
                        bound = np.inf if k == _BOUNDS else _FIRST_BOUND_NS * 2**k / 1e9
                        le = {**labels, NAME: name, "le": format_value(bound)}
                        made.append((le, by_bucket[:, k]))
                elif suffix == "_sum":
                    total = tally.arrays[f"{spec.array}_ns"][row, since:] / 1e9
                    made.append(({**labels, NAME: name}, total))
                else:
                    made.append(({**labels, NAME: name}, by_bucket[:, -1]))
            found.extend(
                _raw(full, times, values)
                for full, values in made
                if all(m.matches(full.get(m.name, "")) for m in others)
            )
    return found


def _raw(labels: dict[str, str], times: np.ndarray, values: np.ndarray) -> RawSeries:
    """A series of counter samples: never a staleness marker among them."""
    no_markers = np.zeros(len(times), dtype=bool)
    return RawSeries(labels_of(labels), times, values.astype(np.float64), no_markers)


@dataclass(slots=True)
class _Tally:
    """Counts per label set and step (and, for histograms, latency bucket), in arrays
    named by what they count."""

    labels: list[dict[str, str]]
    arrays: dict[str, np.ndarray]

    def aligned(self, keys: list[tuple[tuple[str, str], ...]]) -> dict[str, np.ndarray]:
        """The arrays with a row per one of ``keys`` (zeros for those not counted)."""
        where = {tuple(sorted(lb.items())): n for n, lb in enumerate(self.labels)}
        out = {}
        for name, array in self.arrays.items():
            rows = np.zeros((len(keys), *array.shape[1:]))
            for n, key in enumerate(keys):
                if key in where:
                    rows[n] = array[where[key]]
            out[name] = rows
        return out


def _running(
    rows: Rows, tally: str, first: int, step_ms: int, steps: int, ends: np.ndarray
) -> _Tally:
    """The counters at the end of each step: the day's counts so far, the day's counts
    before the first step included when it is that day. A step never straddles midnight
    (see ``_step``)."""
    midnight = first // _DAY_MS * _DAY_MS
    read = _read_spans if tally == "spans" else _read_graph
    before = read(rows, midnight, first, _DAY_MS, 1)
    during = read(rows, first, first + steps * step_ms, step_ms, steps)
    keys = list(dict.fromkeys(tuple(sorted(lb.items())) for lb in [*before.labels, *during.labels]))
    day = (ends - 1) // _DAY_MS
    opening = np.concatenate(([True], day[1:] != day[:-1]))
    restart = np.maximum.accumulate(np.where(opening, np.arange(steps), 0))
    same_day = day == day[0]
    arrays = {}
    earlier = before.aligned(keys)
    for name, array in during.aligned(keys).items():
        total = np.cumsum(array, axis=1)
        previous = np.concatenate((np.zeros_like(total[:, :1]), total[:, :-1]), axis=1)
        running = total - previous[:, restart]
        running[:, same_day] += earlier[name][:, :1]
        arrays[name] = running
    return _Tally([dict(key) for key in keys], arrays)


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


def _bucket(power: Any) -> int:
    """The latency bucket of a duration's power of two at or above it (in 2 ms units)."""
    value = float(power or 0.0)
    return 0 if value <= 1 else min(round(float(np.log2(value))), _BOUNDS)


class _Counter:
    """Arrays filled row by row of a grouped result: a row per label set, a column per
    step, and for the ``histograms`` a latency bucket too."""

    def __init__(
        self,
        start: int,
        step_ms: int,
        steps: int,
        *,
        histograms: tuple[str, ...],
        counts: tuple[str, ...],
    ) -> None:
        self.start, self.step_ms, self.steps = start, step_ms, steps
        self.index: dict[tuple[tuple[str, str], ...], int] = {}
        self.cells: dict[str, list[tuple[int, int, int, float]]] = {
            name: [] for name in (*histograms, *counts)
        }
        self.histograms = histograms

    def add(self, labels: dict[str, str], bucket_ns: Any, array: str, k: int, value: Any) -> None:
        step = (int(bucket_ns) // _NS_PER_MS - self.start) // self.step_ms
        if not 0 <= step < self.steps:
            return
        key = self.index.setdefault(tuple(sorted(labels.items())), len(self.index))
        self.cells[array].append((key, step, k, float(value or 0.0)))

    def tally(self) -> _Tally:
        arrays = {}
        for name, cells in self.cells.items():
            histogram = name in self.histograms
            array = np.zeros((len(self.index), self.steps, *((_BOUNDS + 1,) if histogram else ())))
            for key, step, k, value in cells:
                array[(key, step, k) if histogram else (key, step)] += value
            arrays[name] = array
        return _Tally([dict(key) for key in self.index], arrays)


def _read_spans(rows: Rows, start: int, end: int, step_ms: int, steps: int) -> _Tally:
    counter = _Counter(start, step_ms, steps, histograms=("latency",), counts=("latency_ns",))
    if end > start:
        plan = _spans_plan(TimeRange(start * _NS_PER_MS, end * _NS_PER_MS), step_ms * _NS_PER_MS)
        for row in rows(plan).to_pylist():
            labels = {
                "service": str(row["service"] or ""),
                "span_name": str(row["span_name"] or ""),
                "span_kind": _KINDS.get(int(row["kind"] or 0), "SPAN_KIND_UNSPECIFIED"),
                "status_code": _STATUS_NAMES.get(int(row["status"] or 0), "STATUS_CODE_UNSET"),
            }
            at = row["bucket_ns"]
            counter.add(labels, at, "latency", _bucket(row["bucket"]), row["calls"])
            counter.add(labels, at, "latency_ns", 0, row["duration_ns"])
    return counter.tally()


def _spans_plan(time: TimeRange, step_ns: int) -> Select:
    """Spans (each once) per step, label set and latency bucket: how many, and their
    total duration."""
    scaled = Arithmetic(ArithmeticOp.DIV, Column("Duration"), Literal(_FIRST_BOUND_NS))
    keys = (
        Output("bucket_ns", Call("time_bucket_ns", (Column("Timestamp"), Literal(step_ns)))),
        Output("service", Column("ServiceName")),
        Output("span_name", Column("SpanName")),
        Output("kind", Column("SpanKind")),
        Output("status", Column("StatusCode")),
        Output("bucket", Call("pow2_ceiling", (scaled,))),
    )
    values = (
        Output("calls", Call("count")),
        Output("duration_ns", Call("sum", (Column("Duration"),))),
    )
    return Select(
        Table.SPANS,
        (*keys, *values),
        time=time,
        group_by=tuple(key.name for key in keys),
        one_row_per=SPAN_IDENTITY,
    )


def _read_graph(rows: Rows, start: int, end: int, step_ms: int, steps: int) -> _Tally:
    counter = _Counter(
        start,
        step_ms,
        steps,
        histograms=("server", "client"),
        counts=("server_ns", "client_ns", "failed"),
    )
    if end > start:
        plan = ServiceGraph(
            TimeRange(start * _NS_PER_MS, end * _NS_PER_MS), step_ms * _NS_PER_MS, _FIRST_BOUND_NS
        )
        for row in rows(plan).to_pylist():
            labels = {"client": str(row["client"] or ""), "server": str(row["server"] or "")}
            if row["connection"]:
                labels["connection_type"] = str(row["connection"])
            at, calls = row["bucket_ns"], row["calls"]
            counter.add(labels, at, "server", _bucket(row["server_bucket"]), calls)
            counter.add(labels, at, "client", _bucket(row["client_bucket"]), calls)
            counter.add(labels, at, "server_ns", 0, row["server_ns"])
            counter.add(labels, at, "client_ns", 0, row["client_ns"])
            counter.add(labels, at, "failed", 0, calls if row["failed"] else 0)
    return counter.tally()

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
client sent it (``SPAN_IDENTITY``): the database counts per step and label set (and
latency bucket, when a ``_bucket`` series is asked for), and the counts add up here,
as arrays (``_tally``), into counters with a sample at the end of every step (15
seconds, or coarser over long ranges). The database reads only the spans a selector's
matchers on their labels accept, where they name column values (``service="payment"``
reads ``ServiceName IN ('payment')``, and ``span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CLIENT"``
reads ``SpanKind IN (2, 3)``); every matcher is applied to the series made.

A counter counts since midnight (UTC) and starts again at zero each midnight, as a
process restarting daily would: its value at a time is the same whatever query asks,
and ``rate``, ``increase`` and ``histogram_quantile`` read the restart as the counter
reset it is.

The latency buckets are Tempo's span metrics defaults: 2 ms doubling up to 16.384 s,
then ``+Inf`` (the service graph's too).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otelite.query._plan import (
    SPAN_IDENTITY,
    And,
    Arithmetic,
    ArithmeticOp,
    Call,
    Column,
    Literal,
    OneOf,
    Output,
    Plan,
    Predicate,
    Select,
    ServiceGraph,
    Table,
    TimeRange,
)
from otelite.query.promql._selection import Matcher, Selection
from otelite.query.promql._series import NAME, format_value, labels_of, numbers
from otelite.query.promql._tally import DAY_MS, LabelSet, Tally, running, tally

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
class _Reading:
    """How one derived series reads a tally: which array says since when a label set has
    a series (its first step with a count), and which holds its values (a count per
    step, a histogram's counts per bucket, or durations in ns)."""

    tally: str  # "spans" or "graph"
    seen: str
    array: str
    kind: str = "count"  # "count", "buckets" or "seconds"


_READINGS = {
    _CALLS: _Reading("spans", "calls", "calls"),
    f"{_LATENCY}_bucket": _Reading("spans", "calls", "latency", "buckets"),
    f"{_LATENCY}_sum": _Reading("spans", "calls", "latency_ns", "seconds"),
    f"{_LATENCY}_count": _Reading("spans", "calls", "calls"),
    _REQUESTS: _Reading("graph", "calls", "calls"),
    _FAILED: _Reading("graph", "failed", "failed"),
    **{
        f"{family}{suffix}": _Reading("graph", "calls", *reads)
        for family, side in ((_SERVER, "server"), (_CLIENT, "client"))
        for suffix, reads in (
            ("_bucket", (side, "buckets")),
            ("_sum", (f"{side}_ns", "seconds")),
            ("_count", ("calls", "count")),
        )
    },
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
_MAX_STEPS = 2_000
_NS_PER_MS = 1_000_000
_KINDS: dict[int, str] = {int(number): name for name, number in Span.SpanKind.items()}
_STATUS_NAMES: dict[int, str] = {int(number): name for name, number in Status.StatusCode.items()}
_LE = [
    format_value(np.inf if k == _BOUNDS else _FIRST_BOUND_NS * 2**k / 1e9)
    for k in range(_BOUNDS + 1)
]
_SPAN_LABELS: dict[str, tuple[str, dict[str, int] | None]] = {
    "service": ("ServiceName", None),
    "span_name": ("SpanName", None),
    "span_kind": ("SpanKind", {name: number for number, name in _KINDS.items()}),
    "status_code": ("StatusCode", {name: number for number, name in _STATUS_NAMES.items()}),
}
"""Each span label's column, and for an enum the number each name stands for. A null
string is the empty label; a null or unknown number reads as the enum's zero."""
_WORDS = re.compile(r"[^\\^$.|?*+()\[\]{}]+(?:\|[^\\^$.|?*+()\[\]{}]+)*")
"""A regular expression that is only plain words, one or more of them separated by
``|``: it matches exactly those words."""

Rows = Callable[[Plan], pa.Table]


def selects_derived(matchers: list[Matcher]) -> list[str]:
    """The derived series names the ``__name__`` matchers accept."""
    naming = [m for m in matchers if m.name == NAME]
    return [name for name in DERIVED_SERIES if all(m.matches(name) for m in naming)]


def derived_series(
    rows: Rows, names: list[str], matchers: list[Matcher], start_ms: int, end_ms: int
) -> Selection:
    """The series ``names`` (among the derived ones) over ``[start, end]`` that every
    matcher accepts."""
    if not names:
        return Selection.of([])
    step_ms = _step(start_ms, end_ms)
    first = start_ms // step_ms * step_ms
    steps = (end_ms - first) // step_ms + 1
    ends = first + (np.arange(steps, dtype=np.int64) + 1) * step_ms
    others = [m for m in matchers if m.name != NAME]
    wanted: dict[str, set[str]] = {}
    for name in names:
        reading = _READINGS[name]
        wanted.setdefault(reading.tally, set()).update((reading.seen, reading.array))
    tallies = {
        tally: _counters(rows, tally, arrays, others, first, step_ms, steps)
        for tally, arrays in sorted(wanted.items())
    }
    parts = []
    for name in names:
        reading = _READINGS[name]
        keys, arrays = tallies[reading.tally]
        values = arrays[reading.array]
        if reading.kind == "buckets":
            values = np.cumsum(values, axis=2)  # over the bounds
        elif reading.kind == "seconds":
            values = values / 1e9
        parts.append(_packed(name, keys, ends, arrays[reading.seen], values, others))
    return Selection.joined(parts)


def _packed(
    name: str,
    keys: list[LabelSet],
    ends: np.ndarray,
    seen: np.ndarray,
    values: np.ndarray,
    matchers: list[Matcher],
) -> Selection:
    """A series per label set of ``keys`` (per bucket too when ``values`` has buckets)
    that ``matchers`` accept, from its first step with a count in ``seen`` on."""
    counted = seen != 0
    since = counted.argmax(axis=1)
    exists = counted.any(axis=1)
    buckets = values.ndim == 3
    if buckets:  # label set x bound, as rows
        since, exists = np.repeat(since, len(_LE)), np.repeat(exists, len(_LE))
        values = values.transpose(0, 2, 1).reshape(-1, values.shape[1])
    labels = []
    for row in np.flatnonzero(exists).tolist():
        full = dict(keys[row // len(_LE)] if buckets else keys[row])
        full[NAME] = name
        if buckets:
            full["le"] = _LE[row % len(_LE)]
        if all(m.matches(full.get(m.name, "")) for m in matchers):
            labels.append(labels_of(full))
        else:
            exists[row] = False
    taken = exists[:, None] & (np.arange(len(ends))[None, :] >= since[:, None])
    offsets = np.concatenate(([0], np.cumsum(taken.sum(axis=1)[exists]))).astype(np.intp)
    times = np.broadcast_to(ends, taken.shape)[taken]
    samples = values[taken].astype(np.float64)
    return Selection(labels, times, samples, np.zeros(len(times), dtype=bool), offsets)


def _counters(
    rows: Rows,
    tally: str,
    arrays: set[str],
    matchers: list[Matcher],
    first: int,
    step_ms: int,
    steps: int,
) -> tuple[list[LabelSet], dict[str, np.ndarray]]:
    """The counters at the end of each step: the day's counts so far, the day's counts
    before the first step included when it is that day. A step never straddles midnight
    (see ``_step``)."""
    midnight = first // DAY_MS * DAY_MS
    if tally == "spans":
        where = _span_filter(matchers)
        before = _read_spans(rows, arrays, where, midnight, first, DAY_MS, 1)
        during = _read_spans(rows, arrays, where, first, first + steps * step_ms, step_ms, steps)
    else:
        before = _read_graph(rows, midnight, first, DAY_MS, 1)
        during = _read_graph(rows, first, first + steps * step_ms, step_ms, steps)
    return running(before, during, first, step_ms, steps)


def _step(start_ms: int, end_ms: int) -> int:
    """15 seconds, or the smallest multiple of it that divides a day and keeps a series
    under 2,000 samples."""
    needed = -(-(end_ms - start_ms) // _MAX_STEPS)
    per_day = DAY_MS // _MIN_STEP_MS
    multiple = next(
        (m for m in range(1, per_day + 1) if per_day % m == 0 and m * _MIN_STEP_MS >= needed),
        per_day,
    )
    return multiple * _MIN_STEP_MS


def _buckets(power: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The latency bucket of each duration's power of two at or above it (in 2 ms
    units)."""
    value = numbers(power.fill_null(0.0), np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        exponent = np.minimum(np.rint(np.log2(np.where(value > 1, value, 1.0))), _BOUNDS)
    return np.where(value <= 1, 0, exponent).astype(np.int64)


def _names(numbers_of: pa.Array | pa.ChunkedArray, names: dict[int, str], zero: str) -> pa.Array:
    """Enum numbers (null: zero) as their names; an unknown number is ``zero``."""
    found = numbers(numbers_of.fill_null(0), np.int64)
    distinct, which = np.unique(found, return_inverse=True)
    return pa.array([names.get(int(n), zero) for n in distinct.tolist()], pa.string()).take(
        pa.array(which.reshape(-1))
    )


def _span_filter(matchers: list[Matcher]) -> Predicate | None:
    """What the span labels' matchers ask of the spans' columns, where they accept a
    known set of column values: the database then reads only those spans."""
    found: list[Predicate] = []
    for m in matchers:
        values = _accepted(m)
        if values is None or m.name not in _SPAN_LABELS:
            continue
        column, numbers_of = _SPAN_LABELS[m.name]
        if numbers_of is None:
            found.append(OneOf(column, values))
            continue
        chosen = {numbers_of.get(value) for value in values}
        if 0 in chosen:  # what a null or unknown number reads as too
            continue
        # A name no enum value has matches no span.
        found.append(OneOf(column, tuple(sorted(n for n in chosen if n is not None))))
    if not found:
        return None
    return found[0] if len(found) == 1 else And(tuple(found))


def _accepted(matcher: Matcher) -> tuple[str, ...] | None:
    """The label values an equality matcher, or a regular expression of plain words,
    accepts; None for any other, or when it accepts the empty value (which a null
    column reads as)."""
    if matcher.op == "=":
        values: tuple[str, ...] = (matcher.value,)
    elif matcher.op == "=~" and _WORDS.fullmatch(matcher.value):
        values = tuple(dict.fromkeys(matcher.value.split("|")))
    else:
        return None
    return None if "" in values else values


def _read_spans(
    rows: Rows,
    arrays: set[str],
    where: Predicate | None,
    start: int,
    end: int,
    step_ms: int,
    steps: int,
) -> Tally:
    if end <= start:
        return Tally([], {name: _empty(name == "latency", steps) for name in arrays})
    plan = _spans_plan(
        TimeRange(start * _NS_PER_MS, end * _NS_PER_MS),
        step_ms * _NS_PER_MS,
        where,
        buckets="latency" in arrays,
        durations="latency_ns" in arrays,
    )
    found = rows(plan)
    labels = {
        "service": found.column("service"),
        "span_name": found.column("span_name"),
        "span_kind": _names(found.column("kind"), _KINDS, "SPAN_KIND_UNSPECIFIED"),
        "status_code": _names(found.column("status"), _STATUS_NAMES, "STATUS_CODE_UNSET"),
    }
    calls = numbers(found.column("calls").fill_null(0), np.float64)
    counts: dict[str, tuple[np.ndarray, np.ndarray | None]] = {"calls": (calls, None)}
    if "latency" in arrays:
        counts["latency"] = (calls, _buckets(found.column("bucket")))
    if "latency_ns" in arrays:
        counts["latency_ns"] = (numbers(found.column("duration_ns").fill_null(0), np.float64), None)
    return tally(labels, found.column("bucket_ns"), start, step_ms, steps, counts, _BOUNDS + 1)


def _empty(histogram: bool, steps: int) -> np.ndarray:
    return np.zeros((0, steps, *((_BOUNDS + 1,) if histogram else ())))


def _spans_plan(
    time: TimeRange, step_ns: int, where: Predicate | None, *, buckets: bool, durations: bool
) -> Select:
    """Spans (each once) that meet ``where`` per step and label set (and latency bucket,
    when ``buckets``): how many (and their total duration, when ``durations``)."""
    scaled = Arithmetic(ArithmeticOp.DIV, Column("Duration"), Literal(_FIRST_BOUND_NS))
    keys = (
        Output("bucket_ns", Call("time_bucket_ns", (Column("Timestamp"), Literal(step_ns)))),
        Output("service", Column("ServiceName")),
        Output("span_name", Column("SpanName")),
        Output("kind", Column("SpanKind")),
        Output("status", Column("StatusCode")),
        *((Output("bucket", Call("pow2_ceiling", (scaled,))),) if buckets else ()),
    )
    values = (
        Output("calls", Call("count")),
        *((Output("duration_ns", Call("sum", (Column("Duration"),))),) if durations else ()),
    )
    return Select(
        Table.SPANS,
        (*keys, *values),
        where=where,
        time=time,
        group_by=tuple(key.name for key in keys),
        one_row_per=SPAN_IDENTITY,
    )


_GRAPH_ARRAYS = ("calls", "server", "client", "server_ns", "client_ns", "failed")


def _read_graph(rows: Rows, start: int, end: int, step_ms: int, steps: int) -> Tally:
    if end <= start:
        return Tally(
            [], {name: _empty(name in ("server", "client"), steps) for name in _GRAPH_ARRAYS}
        )
    plan = ServiceGraph(
        TimeRange(start * _NS_PER_MS, end * _NS_PER_MS), step_ms * _NS_PER_MS, _FIRST_BOUND_NS
    )
    found = rows(plan)
    labels = {
        "client": found.column("client"),
        "server": found.column("server"),
        "connection_type": found.column("connection"),
    }
    calls = numbers(found.column("calls").fill_null(0), np.float64)
    failed = numbers(pc.cast(found.column("failed"), pa.bool_()).fill_null(False), np.bool_)
    counts: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
        "calls": (calls, None),
        "server": (calls, _buckets(found.column("server_bucket"))),
        "client": (calls, _buckets(found.column("client_bucket"))),
        "server_ns": (numbers(found.column("server_ns").fill_null(0), np.float64), None),
        "client_ns": (numbers(found.column("client_ns").fill_null(0), np.float64), None),
        "failed": (np.where(failed, calls, 0.0), None),
    }
    return tally(labels, found.column("bucket_ns"), start, step_ms, steps, counts, _BOUNDS + 1)

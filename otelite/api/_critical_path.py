"""Critical paths: of one trace, and over the traces a TraceQL search matches.

``GET /api/traces/{traceId}/critical-path`` reads one trace (404 when unknown)::

    {"traceId": "…", "startTimeUnixNano": "…", "endTimeUnixNano": "…",
     "durationNs": 120000000,        the path's length: the root span, or the top-level
                                     spans' first start to last end
     "traceDurationNs": 125000000,   the trace's first span start to its last span end
     "gapNs": 0,                     path time between top-level spans, in no span
     "spanCount": 42,
     "spans": [{"spanId": "…", "service": "…", "name": "…", "selfNs": 80000000,
                "share": 0.67}, …],  the spans on the path, most time first
     "sections": [{"spanId": "…" | null, "startTimeUnixNano": "…",
                   "endTimeUnixNano": "…"}, …]}   the path in time order

``GET /api/critical-path`` adds up the critical paths of the traces ``q`` (TraceQL,
default ``{}``) matches in ``start``/``end`` (default: the last hour), per operation
(service and span name), and compares them with a baseline: the traces ``baseline``
(TraceQL) matches in ``baselineStart``/``baselineEnd`` (default: ``start``/``end``). With
neither ``baseline`` nor a baseline range, the baseline is the other traces of the range
(``{}``); with only a range, it is ``q`` there (before and after). A trace of the
selection is never in the baseline. Bounds: each group takes the newest ``limit``
traces (default 100, at most 1000; ``"sampled": true`` when more matched), reads their
spans from 5 minutes before the first of them to 5 minutes after the last (as the range
holds them), and at most 100,000 spans (whole traces, the first by id; ``"cut": true``
when some traces were left out)::

    {"selection": {"query": "…", "start": "…", "end": "…", "traces": 87,
                   "sampled": false, "cut": false, "pathNs": …, "meanPathNs": …,
                   "gapNs": …},
     "baseline": {… the same, and "others": true when it is the rest of the range},
     "operations": [{"service": "order", "name": "INSERT orders",
                     "pathNs": …, "perTraceNs": …, "share": 0.41, "traces": 80,
                     "baselinePathNs": …, "baselineShare": 0.05, "baselineTraces": 90,
                     "difference": 0.36, "exampleTraceId": "…"}, …],
     "operationCount": 35, "sampled": false, "cut": false,
     "limits": {"traces": 100, "spans": 100000, "operations": 200, "marginNs": …}}

Operations are ranked by their share of the selection's critical-path time, the first
200 given (``operationCount`` says how many there were). An operation's example trace is
the selection's trace where it spends the most time on the path (else the baseline's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.analysis import (
    CriticalPath,
    PathTotals,
    TraceSpans,
    compare_totals,
    critical_path,
    path_totals,
    spans_plan,
    trace_spans,
    traces_of,
)
from otelite.api._json import JSONResponse
from otelite.api._params import Params, parse_trace_id
from otelite.api._storage import rows, storage_of
from otelite.errors import InvalidRequest, NotFound
from otelite.query import TimeRange
from otelite.query.traceql import search_plan
from otelite.storage import Storage

__all__ = ["critical_path_routes"]

_DEFAULT_TRACES = 100
_MAX_TRACES = 1000
_MAX_SPANS = 100_000
_MAX_OPERATIONS = 200
_MARGIN_NS = 5 * 60 * 10**9
"""How far outside the time the search saw a group's traces in their spans are read."""
_INT64_MAX = 2**63 - 1


def critical_path_routes() -> list[Route]:
    """The routes of this module."""
    return [
        Route("/api/traces/{traceId}/critical-path", trace_critical_path),
        Route("/api/critical-path", critical_path_totals),
    ]


async def trace_critical_path(request: Request) -> Response:
    """``GET /api/traces/{traceId}/critical-path``: see the module docstring."""
    trace_id = parse_trace_id(request.path_params["traceId"])
    storage = storage_of(request)
    # Reading and walking a large trace both take a while: neither runs on the event loop.
    return JSONResponse(await run_in_threadpool(_trace_path, storage, trace_id))


def _trace_path(storage: Storage, trace_id: bytes) -> dict[str, Any]:
    trace = storage.get_trace(trace_id)
    if trace is None:
        raise NotFound(f"trace {trace_id.hex()} not found")
    spans = trace_spans(trace)
    path = critical_path(spans)
    if path is None:
        raise NotFound(f"trace {trace_id.hex()} has no top-level span: its spans' parents loop")
    return _path_json(trace_id, spans, path)


def _path_json(trace_id: bytes, spans: TraceSpans, path: CriticalPath) -> dict[str, Any]:
    ranked = sorted(path.self_ns.items(), key=lambda item: (-item[1], item[0]))
    return {
        "traceId": trace_id.hex(),
        "startTimeUnixNano": str(path.start_ns),
        "endTimeUnixNano": str(path.end_ns),
        "durationNs": path.duration_ns,
        "traceDurationNs": max(spans.ends) - min(spans.starts),
        "gapNs": path.gap_ns,
        "spanCount": len(spans),
        "spans": [
            {
                "spanId": spans.span_ids[span].hex(),
                "service": spans.services[span],
                "name": spans.names[span],
                "selfNs": ns,
                "share": path.share(span),
            }
            for span, ns in ranked
        ],
        "sections": [
            {
                "spanId": None if s.span is None else spans.span_ids[s.span].hex(),
                "startTimeUnixNano": str(s.start_ns),
                "endTimeUnixNano": str(s.end_ns),
            }
            for s in path.sections
        ],
    }


@dataclass(frozen=True, slots=True)
class _Group:
    """One side of the comparison: the query and range that choose its traces."""

    query: str
    parameter: str
    """The query parameter the query came from, for error messages."""
    time: TimeRange
    others: bool = False


async def critical_path_totals(request: Request) -> Response:
    """``GET /api/critical-path``: see the module docstring."""
    storage_of(request)  # a refused tenant is the server's answer, before the parameters
    params = Params(request.query_params)
    query = params.text("q") or "{}"
    time = params.time_range()
    limit = params.limit("limit", default=_DEFAULT_TRACES, maximum=_MAX_TRACES)
    baseline_time = _baseline_time(params, time)
    baseline_query = params.text("baseline")
    others = baseline_query is None and baseline_time == time
    baseline = _Group(
        baseline_query or ("{}" if others else query),
        "baseline" if baseline_query else "q",
        baseline_time,
        others=others,
    )
    selection = _Group(query, "q", time)
    selected = await _search(request, selection, limit, exclude=())
    compared = await _search(request, baseline, limit, exclude=selected.trace_ids)
    selection_totals, selection_cut = await _totals(request, selected)
    baseline_totals, baseline_cut = await _totals(request, compared)
    operations = compare_totals(selection_totals, baseline_totals)
    return JSONResponse(
        {
            "selection": _group_json(selection, selected, selection_totals, cut=selection_cut),
            "baseline": {
                **_group_json(baseline, compared, baseline_totals, cut=baseline_cut),
                "others": others,
            },
            "operations": [
                {
                    "service": o.service,
                    "name": o.name,
                    "pathNs": o.path_ns,
                    "perTraceNs": selection_totals.per_trace_ns(o.path_ns),
                    "share": o.share,
                    "traces": o.traces,
                    "baselinePathNs": o.baseline_path_ns,
                    "baselineShare": o.baseline_share,
                    "baselineTraces": o.baseline_traces,
                    "difference": o.difference,
                    "exampleTraceId": None if o.example is None else o.example.hex(),
                }
                for o in operations[:_MAX_OPERATIONS]
            ],
            "operationCount": len(operations),
            "sampled": selected.sampled or compared.sampled,
            "cut": selection_cut or baseline_cut,
            "limits": {
                "traces": limit,
                "spans": _MAX_SPANS,
                "operations": _MAX_OPERATIONS,
                "marginNs": _MARGIN_NS,
            },
        }
    )


def _baseline_time(params: Params, time: TimeRange) -> TimeRange:
    start = params.time("baselineStart")
    end = params.time("baselineEnd")
    if start is None and end is None:
        return time
    if start is None or end is None:
        raise InvalidRequest("baselineStart, baselineEnd: give both or neither")
    if end < start:
        raise InvalidRequest("baselineStart: must not be after baselineEnd")
    return TimeRange(start, end)


@dataclass(frozen=True, slots=True)
class _Found:
    """The traces a group's search found: their ids, whether more matched, and the time
    their spans are read in."""

    trace_ids: list[bytes]
    sampled: bool
    window: TimeRange


async def _search(
    request: Request, group: _Group, limit: int, *, exclude: Sequence[bytes]
) -> _Found:
    """The newest ``limit`` traces the group's query matches (but those in ``exclude``)."""
    try:
        plan = search_plan(
            group.query, time=group.time, limit=limit + len(exclude) + 1, spans_per_set=1
        )
    except InvalidRequest as error:
        raise InvalidRequest(f"{group.parameter}: invalid TraceQL query: {error}") from None
    excluded = set(exclude)
    spread: dict[bytes, tuple[int, int]] = {}
    for row in await rows(request, plan):
        if row["trace_id"] not in excluded:
            spread.setdefault(row["trace_id"], (row["start_ns"], row["end_ns"]))
    kept = list(spread)[:limit]
    if not kept:
        return _Found([], False, group.time)
    # The traces' own time (what the range holds of them), widened by the margin: the
    # newest traces of a long range are read without scanning all of it.
    low = min(spread[t][0] for t in kept) - _MARGIN_NS
    high = max(spread[t][1] for t in kept) + _MARGIN_NS
    return _Found(kept, len(spread) > limit, TimeRange(max(0, low), min(_INT64_MAX, high + 1)))


async def _totals(request: Request, found: _Found) -> tuple[PathTotals, bool]:
    """The critical paths of the traces added up, and whether the span bound cut some."""
    if not found.trace_ids:
        return PathTotals(), False
    plan = spans_plan(found.trace_ids, found.window, max_spans=_MAX_SPANS)
    read = traces_of(await rows(request, plan), max_spans=_MAX_SPANS)
    totals = await run_in_threadpool(path_totals, read.traces)
    return totals, read.cut


def _group_json(group: _Group, found: _Found, totals: PathTotals, *, cut: bool) -> dict[str, Any]:
    return {
        "query": group.query,
        "start": str(group.time.start),
        "end": str(group.time.end),
        "traces": totals.traces,
        "sampled": found.sampled,
        "cut": cut,
        "pathNs": totals.path_ns,
        "meanPathNs": totals.per_trace_ns(totals.path_ns),
        "gapNs": totals.gap_ns,
    }

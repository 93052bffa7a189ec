"""Comparisons: two traces aligned by structure, and two groups of spans by attribute.

``GET /api/compare/traces?a=ID&b=ID`` aligns trace ``b`` with trace ``a`` (see
``otelite.analysis.compare_traces``) and answers::

    {"a": {"traceId", "spans", "durationNs", "truncated"}, "b": {...},
     "summary": {"added", "missing", "slower", "faster", "same"},   # nodes of each kind
     "nodes": [{"parent", "depth", "service", "operation", "change",
                "a": {"count", "totalNs", "selfNs", "errors"} | null, "b": {...} | null,
                "added", "missing", "deltaNs"}, ...]}

``nodes`` come depth first; ``parent`` is the index of the node's parent in the list
(-1 for a root), so the path of a node is the ``service``/``operation`` of its parents
down to it. ``change`` is ``added``, ``missing``, ``slower``, ``faster`` or ``same``;
``added``/``missing`` count the spans left over once each node's spans are matched in
start order, ``deltaNs`` sums the matched pairs' duration differences (b - a). A trace of
more than ``COMPARED_MAX_SPANS`` spans is compared on those that start first (``truncated``).

``GET /api/compare?selection=&baseline=&start=&end=`` compares two groups of the spans in
``[start, end)`` (default: the last hour; at most a week), each a TraceQL span set query:
``selection`` (required; ``{ }`` is every span) and ``baseline`` (default: every span
not in the selection). A query with structure or a pipeline stands for the spans it
leaves: ``{ status = error } !< { status = error }`` is the error spans with no failing
child, where errors start. ``selectionStart``/``selectionEnd`` keep in the selection only its
spans that start in ``(selectionStart, selectionEnd]`` (with the default baseline only);
``limit`` (default 50, at most 1000) bounds the values listed. It answers::

    {"selection": {"query", "spans"}, "baseline": {"query" | null, "spans"},
     "values": [{"attribute", "value", "score", "exact",
                 "selection": {"count", "share"}, "baseline": {"count", "share"}}, ...],
     "cut": {"values": [attribute, ...], "attributes": bool, "ranked": bool},
     "sample": null | {"rate", "selection", "baseline"},
     "bounds": {"spans", "valuesPerAttribute", "attributes", "ranked"}}

``values`` are span attributes (``span.x``), resource attributes (``resource.x``) and span
names (``name``), ranked by ``score``, ``selection.share - baseline.share``, in absolute
value (see ``otelite.analysis.group_comparison_plan``). ``cut`` says what the bounds
left out: attributes with more values than ``valuesPerAttribute`` (whose rarer values,
and a count marked ``exact: false``, are not known), attributes beyond ``attributes``,
values beyond ``ranked``. When the two groups hold more than ``bounds.spans`` spans, the
values are counted on a sample of their traces: ``sample`` gives its rate and the spans
of each group it holds (the counts and shares of ``values`` are the sample's; those of
``selection`` and ``baseline`` every span's).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.analysis import (
    MAX_ATTRIBUTES,
    MAX_COUNTED_SPANS,
    MAX_VALUES,
    Change,
    GroupComparison,
    PathStats,
    TraceComparison,
    TraceSide,
    compare_traces,
    group_comparison_plan,
)
from otelite.api._json import JSONResponse
from otelite.api._params import Params, parse_trace_id
from otelite.api._storage import rows, rows_of_each, storage_of
from otelite.errors import InvalidRequest, NotFound
from otelite.types import ExportTraceServiceRequest

__all__ = ["compare_routes"]

_MAX_LIMIT = 1000


def compare_routes() -> list[Route]:
    """The comparison endpoints (see the module docstring)."""
    return [Route("/api/compare/traces", traces), Route("/api/compare", groups)]


async def traces(request: Request) -> Response:
    """``GET /api/compare/traces``: trace ``b`` aligned with trace ``a``."""
    storage_of(request)  # a refused tenant is the server's answer, before the parameters
    params = Params(request.query_params)
    ids = []
    for name in ("a", "b"):
        text = params.text(name)
        if text is None:
            raise InvalidRequest(f"{name}: the id of a trace to compare is required")
        ids.append(parse_trace_id(text, name))
    a, b = await _trace(request, "a", ids[0]), await _trace(request, "b", ids[1])
    found = await run_in_threadpool(compare_traces, a, b)
    return JSONResponse(_traces_json(found, ids[0], ids[1]))


async def _trace(request: Request, name: str, trace_id: bytes) -> ExportTraceServiceRequest:
    trace = await run_in_threadpool(storage_of(request).get_trace, trace_id)
    if trace is None:
        raise NotFound(f"{name}: trace {trace_id.hex()} not found")
    return trace


async def groups(request: Request) -> Response:
    """``GET /api/compare``: the attribute values that set the selection apart."""
    storage_of(request)  # a refused tenant is the server's answer, before the parameters
    params = Params(request.query_params)
    selection = params.text("selection")
    if selection is None:
        raise InvalidRequest(
            "selection: a TraceQL span set query is required, e.g. { status = error }"
        )
    baseline = params.text("baseline")
    after, until = params.time("selectionStart"), params.time("selectionEnd")
    window = None
    if after is not None or until is not None:
        if after is None or until is None:
            raise InvalidRequest("selectionStart, selectionEnd: give both or neither")
        if baseline is not None:
            raise InvalidRequest(
                "baseline: a selection window compares with the default baseline only"
            )
        window = (after, until)
    limit = params.limit("limit", default=50, maximum=_MAX_LIMIT)
    plan = group_comparison_plan(
        selection, baseline, params.time_range(), window=window, limit=limit
    )
    totals = await rows(request, plan.totals)
    found = plan.answer(totals, await rows_of_each(request, plan.counts(totals)))
    return JSONResponse(_groups_json(found, selection, baseline, limit))


def _groups_json(
    found: GroupComparison, selection: str, baseline: str | None, limit: int
) -> dict[str, Any]:
    return {
        "selection": {"query": selection, "spans": found.selection_spans},
        "baseline": {"query": baseline, "spans": found.baseline_spans},
        "values": [
            {
                "attribute": v.attribute,
                "value": v.value,
                "score": v.score,
                "exact": v.exact,
                "selection": {"count": v.selection, "share": v.selection_share},
                "baseline": {"count": v.baseline, "share": v.baseline_share},
            }
            for v in found.values
        ],
        "cut": {
            "values": list(found.values_cut),
            "attributes": found.attributes_cut,
            "ranked": found.ranked_cut,
        },
        "sample": None
        if found.sample is None
        else {
            "rate": found.sample.rate,
            "selection": found.sample.selection,
            "baseline": found.sample.baseline,
        },
        "bounds": {
            "spans": MAX_COUNTED_SPANS,
            "valuesPerAttribute": MAX_VALUES,
            "attributes": MAX_ATTRIBUTES,
            "ranked": limit,
        },
    }


def _traces_json(found: TraceComparison, a: bytes, b: bytes) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    index: dict[tuple[tuple[str, str], ...], int] = {}
    for node in found.nodes:
        index[node.path] = len(nodes)
        service, operation = node.path[-1]
        nodes.append(
            {
                "parent": index[node.path[:-1]] if len(node.path) > 1 else -1,
                "depth": len(node.path) - 1,
                "service": service,
                "operation": operation,
                "change": node.change.value,
                "a": _stats_json(node.a),
                "b": _stats_json(node.b),
                "added": node.added,
                "missing": node.missing,
                "deltaNs": node.delta_ns,
            }
        )
    return {
        "a": _side_json(found.a, a),
        "b": _side_json(found.b, b),
        "summary": {c.value: sum(1 for n in found.nodes if n.change is c) for c in Change},
        "nodes": nodes,
    }


def _side_json(side: TraceSide, trace_id: bytes) -> dict[str, Any]:
    return {
        "traceId": trace_id.hex(),
        "spans": side.spans,
        "durationNs": side.duration_ns,
        "truncated": side.truncated,
    }


def _stats_json(stats: PathStats | None) -> dict[str, int] | None:
    if stats is None:
        return None
    return {
        "count": stats.count,
        "totalNs": stats.total_ns,
        "selfNs": stats.self_ns,
        "errors": stats.errors,
    }

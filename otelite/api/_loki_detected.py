"""What Loki detects, for Grafana's Logs Drilldown: ``detected_labels``,
``detected_fields`` and ``detected_field/<name>/values`` (``otelite.query.logql``'s
:func:`~otelite.query.logql.detected_labels` and :func:`~otelite.query.logql.detected_fields`),
and ``patterns``.

The bodies are Loki's, without an envelope, each key left out when empty as Loki's
``omitempty`` does: ``{"detectedLabels": [{"label", "cardinality"}]}``; ``{"fields":
[{"label", "type", "cardinality", "parsers", "jsonPath"?}], "limit"}`` (``parsers`` null
for structured metadata); ``{"values": [...], "limit"}``. Grafana's Loki data source
probes ``detected_labels`` and uses the detected endpoints for its label lists only when
the body itself is a JSON array; Loki's object (which otelite answers too) sends it to
``labels``, ``label/<name>/values`` and ``series``, which otelite serves, while Logs
Drilldown reads the object as it is.

``detected_fields`` reads a sample, the newest ``line_limit`` lines (100 by default, at
most 5,000) of the query (a log query: its filters and parsers run first). ``patterns``
(log patterns, which Loki's pattern ingester mines) answers ``{"status": "success",
"data": []}`` after checking its query: otelite mines no patterns, and Grafana shows
none.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.api._json import JSONResponse
from otelite.api._loki import MAX_ENTRIES, PREFIX, answering, query_window, stream_selector
from otelite.api._loki_params import Params
from otelite.api._storage import storage_of
from otelite.errors import InvalidRequest
from otelite.query import TimeRange
from otelite.query.logql import (
    Direction,
    Entries,
    LogQuery,
    detected_field_values,
    detected_fields,
    detected_labels,
    parse,
    select_logs,
)
from otelite.query.promql import Budget
from otelite.storage import Storage

__all__ = ["loki_detected_routes"]

DEFAULT_LINE_LIMIT = 100
DEFAULT_FIELD_LIMIT = 1000


async def labels(request: Request) -> Response:
    """``detected_labels``: stream labels worth a breakdown, with their cardinality."""
    form = await Params.of(request)
    window = query_window(form)
    text = form.get("query")
    selector = None if text is None else stream_selector(text, strict=True)
    found = await run_in_threadpool(detected_labels, storage_of(request), selector, window)
    body: dict[str, Any] = {}
    if found:
        body["detectedLabels"] = [{"label": d.label, "cardinality": d.cardinality} for d in found]
    return JSONResponse(body)


async def fields(request: Request) -> Response:
    """``detected_fields``: the fields of a sample of the query's lines."""
    form = await Params.of(request)
    entries, limit = await _sample(request, form)
    found = detected_fields(entries, limit=limit)
    body: dict[str, Any] = {}
    if found:
        body["fields"] = [
            _field(f.label, f.type, f.cardinality, f.parsers, f.json_path) for f in found
        ]
        body["limit"] = limit
    return JSONResponse(body)


def _field(
    label: str,
    kind: str,
    cardinality: int,
    parsers: tuple[str, ...] | None,
    json_path: tuple[str, ...] | None,
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "label": label,
        "type": kind,
        "cardinality": cardinality,
        "parsers": None if parsers is None else list(parsers),
    }
    if json_path:
        found["jsonPath"] = list(json_path)
    return found


async def field_values(request: Request) -> Response:
    """``detected_field/<name>/values``: the values a field takes in the sample."""
    form = await Params.of(request)
    entries, limit = await _sample(request, form)
    found = detected_field_values(entries, request.path_params["name"], limit=limit)
    body: dict[str, Any] = {}
    if found:
        body["values"] = found
        body["limit"] = limit
    return JSONResponse(body)


async def _sample(request: Request, form: Params) -> tuple[Entries, int]:
    """The newest ``line_limit`` entries of the query, and the ``limit`` asked for."""
    window = query_window(form)
    form.step(*_bounds(window))  # Loki checks it, though it changes nothing here
    expr = parse(form.get("query") or "")
    if not isinstance(expr, LogQuery):
        raise InvalidRequest("only log queries are supported here, not metric queries")
    lines = form.positive("line_limit", DEFAULT_LINE_LIMIT)
    if lines > MAX_ENTRIES:
        raise InvalidRequest(
            "max entries limit per query exceeded, limit > max_entries_limit_per_query"
            f" ({lines} > {MAX_ENTRIES})"
        )
    limit_name = "limit" if form.get("limit") is not None else "field_limit"
    limit = form.positive(limit_name, DEFAULT_FIELD_LIMIT)
    budget = Budget(timeout_s=request.app.state.query_timeout_seconds)
    entries = await run_in_threadpool(_newest, storage_of(request), expr, window, lines, budget)
    return entries, limit


def _newest(
    storage: Storage, query: LogQuery, window: TimeRange, lines: int, budget: Budget
) -> Entries:
    start, end = _bounds(window)
    found = select_logs(
        storage,
        query,
        start_ns=start,
        end_ns=end,
        limit=lines,
        direction=Direction.BACKWARD,
        budget=budget,
    )
    return found.entries


def _bounds(window: TimeRange) -> tuple[int, int]:
    assert window.start is not None and window.end is not None
    return window.start, window.end


async def patterns(request: Request) -> Response:
    """``patterns``: none (otelite mines no log patterns), once the query is checked."""
    form = await Params.of(request)
    query_window(form)
    stream_selector(form.get("query") or "", strict=False)
    return JSONResponse({"status": "success", "data": []})


def loki_detected_routes() -> list[Route]:
    """The routes of this module, for ``loki_routes``."""
    both = ["GET", "POST"]
    return [
        Route(f"{PREFIX}/detected_labels", answering(labels), methods=both),
        Route(f"{PREFIX}/detected_fields", answering(fields), methods=both),
        Route(f"{PREFIX}/detected_field/{{name}}/values", answering(field_values), methods=both),
        Route(f"{PREFIX}/patterns", answering(patterns), methods=both),
    ]

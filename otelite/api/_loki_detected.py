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
most 5,000) of the query (a log query: its filters and parsers run first).

``patterns`` answers ``{"status": "success", "data": [{"pattern", "level", "samples":
[[unix_s, lines], ...]}]}``, the most frequent first: log patterns that
``otelite.query.logql`` mines (Drain) from the newest ``PATTERN_LINES`` lines of the
query in its range, at each level, counted per ``step``. Loki mines every line as it
arrives; where the range holds more lines than otelite reads, the samples cover only the
newest of its time, and a ``warnings`` entry says since when.
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
    DETECTED_LEVEL,
    UNKNOWN_LEVEL,
    Direction,
    Entries,
    LogQuery,
    detected_field_values,
    detected_fields,
    detected_labels,
    mine_patterns,
    parse,
    select_logs,
)
from otelite.query.promql import Budget
from otelite.storage import Storage

__all__ = ["loki_detected_routes"]

DEFAULT_LINE_LIMIT = 100
DEFAULT_FIELD_LIMIT = 1000
PATTERN_LINES = 20_000
"""The most lines ``patterns`` reads (about half a second of mining)."""


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
    """``patterns``: the shapes of the query's newest lines, counted per step."""
    form = await Params.of(request)
    window = query_window(form)
    step = form.step(*_bounds(window))
    expr = parse(form.get("query") or "")
    if not isinstance(expr, LogQuery):
        raise InvalidRequest("only log queries are supported here, not metric queries")
    budget = Budget(timeout_s=request.app.state.query_timeout_seconds)
    storage = storage_of(request)
    entries = await run_in_threadpool(_newest, storage, expr, window, PATTERN_LINES, budget)
    levels = (labels.get(DETECTED_LEVEL) or UNKNOWN_LEVEL for labels in entries.labels)
    found = await run_in_threadpool(
        mine_patterns, entries.lines, entries.times, levels, step_ns=step
    )
    body: dict[str, Any] = {
        "status": "success",
        "data": [
            {
                "pattern": p.text,
                "level": p.level,
                "samples": [[at // 10**9, count] for at, count in p.samples],
            }
            for p in found
        ],
    }
    if len(entries) >= PATTERN_LINES:
        since = min(entries.times) // 10**9
        body["warnings"] = [
            f"patterns were mined from the newest {PATTERN_LINES} lines only, since {since}"
        ]
    return JSONResponse(body)


def loki_detected_routes() -> list[Route]:
    """The routes of this module, for ``loki_routes``."""
    both = ["GET", "POST"]
    return [
        Route(f"{PREFIX}/detected_labels", answering(labels), methods=both),
        Route(f"{PREFIX}/detected_fields", answering(fields), methods=both),
        Route(f"{PREFIX}/detected_field/{{name}}/values", answering(field_values), methods=both),
        Route(f"{PREFIX}/patterns", answering(patterns), methods=both),
    ]

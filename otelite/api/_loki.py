"""The Loki HTTP API (``/loki/api/v1/...``) on the query port, as Grafana's Loki data
source and logcli call it.

Queries are LogQL (``otelite.query.logql``); this module reads Loki's parameters (GET
or a POSTed form), writes its envelope and result shapes, and keeps its limits. Times
are Unix seconds (up to 10 digits), nanoseconds (more), seconds with a fraction, or RFC
3339; ``step`` and ``interval`` are seconds or a duration (``"15000ms"``, as Grafana
sends). A log query answers ``streams``: ``[["<ns>", "line"], ...]`` per label set,
newest first unless ``direction=forward``. With the header
``X-Loki-Response-Encoding-Flags: categorize-labels`` a stream carries its stream labels
only and each entry its structured metadata and parsed labels. Errors are plain text,
as Loki writes them: 400 for bad input (``parse error at line 1, col 5: ...``), 504 when
the server's query timeout passes.

A metric query answers a ``matrix`` (``query_range``) or a ``vector`` or ``scalar``
(``query``), shaped by ``_loki_metrics``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from otelite import __version__
from otelite.api._json import JSONResponse
from otelite.api._loki_metrics import instant_data, range_data
from otelite.api._loki_params import Params, go_duration
from otelite.api._storage import storage_of
from otelite.errors import InvalidRequest
from otelite.query import TimeRange
from otelite.query.logql import (
    Direction,
    Entries,
    Expr,
    Labels,
    LogQuery,
    LogResult,
    Matcher,
    MetricExpr,
    MetricResult,
    ReadStats,
    evaluate_metric,
    format_labels,
    parse,
    select_logs,
    stream_sets,
    to_text,
)
from otelite.query.promql import Budget, QueryTimeout
from otelite.storage import Storage

__all__ = ["loki_routes"]

PREFIX = "/loki/api/v1"
MAX_ENTRIES = 5000
"""Loki's default ``max_entries_limit_per_query``: the most lines one query returns."""
MAX_QUERY_LENGTH_NS = 721 * 3600 * 10**9
"""Loki's default ``max_query_length``: the longest time range one query reads."""
ENCODING_FLAGS = "X-Loki-Response-Encoding-Flags"
CATEGORIZE_LABELS = "categorize-labels"
DEADLINE_EXCEEDED = (
    "request timed out, decrease the duration of the request or add more label matchers"
    " (prefer exact match over regex match) to reduce the amount of data processed"
)
INSTANT_LOG_QUERY = (
    "log queries are not supported as an instant query type, please change your query to"
    " a range query type"
)

Handler = Callable[[Request], Awaitable[Response]]


def answering(handler: Handler, *, reads: bool = True) -> Handler:
    """Bad input as 400 and a query past its time as 504, in plain text as Loki answers.
    A route that ``reads`` stored data first needs the request's tenant."""

    async def answer(request: Request) -> Response:
        if reads:
            storage_of(request)  # a refused tenant is the server's answer, not this API's
        try:
            return await handler(request)
        except QueryTimeout:
            return PlainTextResponse(DEADLINE_EXCEEDED, status_code=504)
        except InvalidRequest as problem:
            return PlainTextResponse(str(problem), status_code=400)

    return answer


def _success(data: Any) -> Response:
    return JSONResponse({"status": "success", "data": data})


@dataclass(frozen=True, slots=True)
class _Asked:
    """A query and what it may read and spend."""

    expr: Expr
    start_ns: int
    end_ns: int
    step_ns: int
    interval_ns: int
    limit: int
    direction: Direction
    timeout_s: float | None
    categorize: bool


def wants_categories(request: HTTPConnection) -> bool:
    """Whether the client asked for labels by category (Loki's encoding flag)."""
    flags = request.headers.get(ENCODING_FLAGS, "")
    return CATEGORIZE_LABELS in (flag.strip() for flag in flags.split(","))


def _parsed(form: Params) -> Expr:
    return parse(form.get("query") or "")


async def query_range(request: Request) -> Response:
    """``query_range``: a log query's lines, or a metric query at every ``step``."""
    form = await Params.of(request)
    start, end = form.bounds(time.time_ns())
    if end < start:
        raise InvalidRequest("end timestamp must not be before or equal to start time")
    limit, direction = form.limit(), form.direction()
    step = form.step(start, end)
    interval = form.duration("interval") or 0
    if interval < 0:
        raise InvalidRequest("interval must be >= 0")
    asked = _Asked(
        _parsed(form),
        start,
        end,
        step,
        interval,
        limit,
        direction,
        request.app.state.query_timeout_seconds,
        wants_categories(request),
    )
    check_length(start, end)
    if isinstance(asked.expr, LogQuery):
        if limit > MAX_ENTRIES:
            raise InvalidRequest(
                "max entries limit per query exceeded, limit > max_entries_limit_per_query"
                f" ({limit} > {MAX_ENTRIES})"
            )
        result = await run_in_threadpool(_log_range, storage_of(request), asked, asked.expr)
        return JSONResponse(_streams_body(result, asked.categorize))
    return await _metric_range(request, asked, asked.expr)


async def query(request: Request) -> Response:
    """``query``: a metric query at one time (``time``, default now)."""
    form = await Params.of(request)
    at = form.timestamp("time", time.time_ns())
    expr = _parsed(form)
    if isinstance(expr, LogQuery):
        raise InvalidRequest(INSTANT_LOG_QUERY)
    asked = _Asked(
        expr,
        at,
        at,
        0,
        0,
        form.limit(),
        form.direction(),
        request.app.state.query_timeout_seconds,
        wants_categories(request),
    )
    return await _metric_instant(request, asked, expr)


async def _metric_range(request: Request, asked: _Asked, expr: MetricExpr) -> Response:
    """A metric query's ``matrix`` over ``asked``'s steps."""
    result = await _evaluated(request, asked, expr)
    return _metric_answer(range_data(result), result)


async def _metric_instant(request: Request, asked: _Asked, expr: MetricExpr) -> Response:
    """A metric query's ``vector`` (or ``scalar``) at ``asked.start_ns``."""
    result = await _evaluated(request, asked, expr)
    return _metric_answer(instant_data(result), result)


async def _evaluated(request: Request, asked: _Asked, expr: MetricExpr) -> MetricResult:
    return await run_in_threadpool(
        evaluate_metric,
        storage_of(request),
        expr,
        start_ns=asked.start_ns,
        end_ns=asked.end_ns,
        step_ns=asked.step_ns,
        budget=Budget(timeout_s=asked.timeout_s),
    )


def _metric_answer(data: dict[str, Any], result: MetricResult) -> Response:
    data["stats"] = _stats(result.stats, len(data["result"]))
    return _success(data)


def check_length(start: int, end: int) -> None:
    """Refuse a time range longer than Loki's default limit, in Loki's words."""
    if end - start > MAX_QUERY_LENGTH_NS:
        raise InvalidRequest(
            f"the query time range exceeds the limit (query length: {go_duration(end - start)},"
            f" limit: {go_duration(MAX_QUERY_LENGTH_NS)})"
        )


def _log_range(storage: Storage, asked: _Asked, expr: LogQuery) -> LogResult:
    return select_logs(
        storage,
        expr,
        start_ns=asked.start_ns,
        end_ns=asked.end_ns,
        limit=asked.limit,
        direction=asked.direction,
        interval_ns=asked.interval_ns,
        budget=Budget(timeout_s=asked.timeout_s),
    )


def stream_list(entries: Entries, categorize: bool) -> list[dict[str, Any]]:
    """Entries as Loki's ``streams`` result, ordered by their labels' text."""
    groups: dict[Labels, list[list[Any]]] = {}
    for at, line, labels in zip(entries.times, entries.lines, entries.labels, strict=True):
        if categorize:
            stream, metadata, parsed = labels.categorized()
            kinds: dict[str, dict[str, str]] = {}
            if metadata:
                kinds["structuredMetadata"] = dict(metadata)
            if parsed:
                kinds["parsed"] = dict(parsed)
            groups.setdefault(stream, []).append([str(at), line, kinds])
        else:
            groups.setdefault(labels.all(), []).append([str(at), line])
    ordered = sorted(groups.items(), key=lambda item: format_labels(item[0]))
    return [{"stream": dict(labels), "values": values} for labels, values in ordered]


def _stats(stats: ReadStats, returned: int) -> dict[str, Any]:
    """Loki's ``stats``: what the query read, in the parts of its shape clients read."""
    seconds = max(stats.seconds, 1e-9)
    chunk = {
        "compressedBytes": 0,
        "decompressedBytes": stats.bytes,
        "decompressedLines": stats.lines,
        "decompressedStructuredMetadataBytes": 0,
        "headChunkBytes": 0,
        "headChunkLines": 0,
        "headChunkStructuredMetadataBytes": 0,
        "postFilterLines": returned,
        "totalDuplicates": 0,
    }
    store = {
        "totalChunksRef": 0,
        "totalChunksDownloaded": 0,
        "chunksDownloadTime": 0,
        "queryReferencedStructuredMetadata": False,
        "chunk": chunk,
    }
    return {
        "summary": {
            "bytesProcessedPerSecond": int(stats.bytes / seconds),
            "linesProcessedPerSecond": int(stats.lines / seconds),
            "totalBytesProcessed": stats.bytes,
            "totalLinesProcessed": stats.lines,
            "totalEntriesReturned": returned,
            "totalPostFilterLines": returned,
            "totalStructuredMetadataBytesProcessed": 0,
            "execTime": stats.seconds,
            "queueTime": 0,
            "subqueries": 0,
            "splits": 0,
            "shards": 0,
        },
        "querier": {"store": store},
        "ingester": {
            "totalReached": 0,
            "totalChunksMatched": 0,
            "totalBatches": 0,
            "totalLinesSent": 0,
            "store": {**store, "chunk": dict.fromkeys(chunk, 0)},
        },
    }


def _streams_body(result: LogResult, categorize: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"resultType": "streams"}
    if categorize:
        data["encodingFlags"] = [CATEGORIZE_LABELS]
    data["result"] = stream_list(result.entries, categorize)
    data["stats"] = _stats(result.stats, len(result.entries))
    return {"status": "success", "data": data}


# --- Labels and series ---------------------------------------------------------------------


def stream_selector(text: str, *, strict: bool) -> tuple[Matcher, ...]:
    """A stream selector; with ``strict``, nothing but one (``series``' ``match[]``)."""
    expr = parse(text)
    if not isinstance(expr, LogQuery):
        raise InvalidRequest(f"only stream selectors are accepted here, not {text!r:.80}")
    if strict and (expr.line_filters or expr.stages):
        raise InvalidRequest(f"only label matchers are supported, not {text!r:.80}")
    return expr.selector


def query_window(form: Params) -> TimeRange:
    start, end = form.bounds(time.time_ns())
    if end < start:
        raise InvalidRequest("end timestamp must not be before or equal to start time")
    check_length(start, end)
    return TimeRange(start, end)


async def _label_sets(request: Request, form: Params) -> list[Labels]:
    time_range = query_window(form)
    text = form.get("query")
    selectors = [] if text is None else [stream_selector(text, strict=False)]
    return await run_in_threadpool(stream_sets, storage_of(request), selectors, time_range)


async def labels(request: Request) -> Response:
    """``labels``: the stream label names (of the streams ``query`` selects)."""
    form = await Params.of(request)
    found = await _label_sets(request, form)
    return _success(sorted({name for labels in found for name, _ in labels}))


async def label_values(request: Request) -> Response:
    """``label/<name>/values``: the values the stream label takes."""
    form = await Params.of(request)
    name = request.path_params["name"]
    found = await _label_sets(request, form)
    return _success(sorted({value for labels in found for n, value in labels if n == name}))


async def series(request: Request) -> Response:
    """``series``: the label sets of the streams ``match[]`` selects (all without one)."""
    form = await Params.of(request)
    texts = sorted(set(form.all("match[]") + form.all("match")))
    if len(texts) == 1 and texts[0].replace(" ", "") == "{}":
        texts = []
    selectors = [stream_selector(text, strict=True) for text in texts]
    time_range = query_window(form)
    found = await run_in_threadpool(stream_sets, storage_of(request), selectors, time_range)
    return _success([dict(labels) for labels in found])


async def format_query(request: Request) -> Response:
    """``format_query``: the query, formatted."""
    form = await Params.of(request)
    return _success(to_text(_parsed(form)))


async def build_info(request: Request) -> Response:
    """``status/buildinfo``: the Loki version whose API otelite answers."""
    return JSONResponse(
        {
            "version": "3.5.0",
            "revision": f"otelite {__version__}",
            "branch": "",
            "buildUser": "",
            "buildDate": "",
            "goVersion": "",
        }
    )


def loki_routes() -> list[BaseRoute]:
    """The routes of the Loki API, for ``create_app``."""
    # Imported here: those modules build on this one's.
    from otelite.api._loki_detected import loki_detected_routes
    from otelite.api._loki_index import loki_index_routes
    from otelite.api._loki_tail import loki_tail_routes

    both = ["GET", "POST"]
    return [
        *loki_index_routes(),
        *loki_detected_routes(),
        *loki_tail_routes(),
        Route(f"{PREFIX}/query_range", answering(query_range), methods=both),
        Route(f"{PREFIX}/query", answering(query), methods=both),
        Route(f"{PREFIX}/labels", answering(labels), methods=both),
        Route(f"{PREFIX}/label/{{name}}/values", answering(label_values), methods=both),
        Route(f"{PREFIX}/series", answering(series), methods=both),
        Route(f"{PREFIX}/format_query", answering(format_query, reads=False), methods=both),
        Route(f"{PREFIX}/status/buildinfo", answering(build_info, reads=False)),
    ]

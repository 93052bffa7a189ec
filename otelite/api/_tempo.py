"""Grafana Tempo's HTTP API, as Grafana's Tempo data source calls it.

Search takes TraceQL (``q``) and answers Tempo's ``SearchResponse``; the tag APIs list
attribute names by scope and typed values; the metrics APIs answer TraceQL metrics
queries per step (``query_range``) or over the whole range (``query``); ``/api/echo`` is
Grafana's health check. Trace
by id (v1 and v2) lives with otelite's own trace routes, which already speak Tempo's
envelopes. Field names and value forms follow Tempo's JSON (gogo jsonpb: lowerCamel
names, zero values left out, 64-bit integers as strings). Errors are Tempo's: status 400
with the message as plain text.
"""

from __future__ import annotations

import math
import shlex
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from otelite import __version__
from otelite.api._json import JSONResponse
from otelite.api._params import Params
from otelite.api._storage import rows, rows_of_each, storage_of
from otelite.errors import InvalidRequest, OteliteError
from otelite.query import (
    Attribute,
    AttributeScope,
    Call,
    Column,
    Compare,
    Matching,
    Op,
    Or,
    Output,
    Predicate,
    Select,
    Table,
    TimeRange,
    TraceCompare,
    TraceField,
    all_of,
    attribute_values_plan,
    column_values_plan,
    parse_duration_ns,
    span_keys_plan,
    value_type,
    within_traces,
)
from otelite.query.traceql import (
    INTRINSIC_NAMES,
    Exemplar,
    ParseError,
    Series,
    TagValues,
    filter_condition,
    metrics_comparison,
    metrics_expression,
    metrics_plan,
    parse_field,
    search_plan,
    tag_values_source,
)

__all__ = ["tempo_routes"]

_ROOT_NOT_RECEIVED = "<root span not yet received>"
# Default metrics steps, largest first: about a 240th of the range, rounded down to one.
_STEPS = tuple(int(seconds * 1e9) for seconds in (3600, 300, 60, 15, 5, 1, 0.05))
_MAX_EXEMPLARS = 1_000
_MAX_STEPS = 11_000
"""Points per series at most (Prometheus's bound, which Grafana's step choice respects)."""
# A step no stored time reaches past (2^62 ns is in 2116): one bucket for a whole range.
_WHOLE_RANGE = 2**62
_TAG_SAMPLE_SPANS = 5_000
_SCOPES = ("resource", "span", "instrumentation", "event", "link", "intrinsic")
# TraceQL's scopes with attribute maps, by the output of ``span_keys_plan`` holding them.
_MAP_SCOPES = {"span": "span", "resource": "resource", "instrumentation": "scope"}

Handler = Callable[[Request], Awaitable[Response]]


def _tempo_errors(handler: Handler) -> Handler:
    """Tempo's error answers: 400 with the message as text (not otelite's JSON)."""

    async def answer(request: Request) -> Response:
        # The tenant first: a missing or refused tenant is the server's answer, the same
        # on every route (as a missing token is), not this API's.
        storage_of(request)
        try:
            return await handler(request)
        except ParseError as error:
            return PlainTextResponse(f"invalid TraceQL query: {error}", status_code=400)
        except InvalidRequest as error:
            return PlainTextResponse(str(error), status_code=400)
        except OteliteError:
            raise  # storage trouble: the app's handlers give 503 with Retry-After

    return answer


async def echo(request: Request) -> Response:
    """``GET /api/echo``: Grafana's health check of a Tempo data source."""
    return PlainTextResponse("echo")


async def build_info(request: Request) -> Response:
    """``GET /api/status/buildinfo``: Tempo's (and Prometheus's) build information."""
    return JSONResponse(
        {
            "version": __version__,
            "revision": "",
            "branch": "",
            "buildUser": "",
            "buildDate": "",
            "goVersion": "",
        }
    )


def _time(params: Params) -> TimeRange:
    return params.time_range()


@_tempo_errors
async def search(request: Request) -> Response:
    """``GET /api/search``: traces matching a TraceQL query, with their matched spans."""
    params = Params(request.query_params)
    query = params.text("q")
    if query is not None and params.text("tags") is not None:
        raise InvalidRequest("invalid request: q and tags cannot both be given")
    limit = params.limit("limit", default=20, maximum=10_000)
    spans_per_set = params.limit("spss", default=3, maximum=1_000)
    plan = search_plan(query or "{}", time=_time(params), limit=limit, spans_per_set=spans_per_set)
    tags = params.text("tags")
    if tags is not None:
        plan = replace(plan, spanset=Matching(_legacy_tags(tags)))
    durations = _trace_durations(params)
    if durations is not None:
        plan = replace(plan, spanset=within_traces(plan.spanset, durations))
    labels = [label for label, _ in plan.fields]
    found: dict[bytes, dict[str, Any]] = {}
    # One span set per trace, or with by(...) one per value of it.
    sets: dict[tuple[bytes, object], dict[str, Any]] = {}
    grouped = plan.group_by is not None
    for row in await rows(request, plan):
        trace = found.get(row["trace_id"])
        if trace is None:
            trace = found[row["trace_id"]] = _trace_json(row)
        value = row["grp"] if grouped else None
        spanset = sets.get((row["trace_id"], value))
        if spanset is None:
            matched = row["grp_matched"] if grouped else row["matched"]
            spanset = sets[row["trace_id"], value] = {"spans": [], "matched": matched}
            if plan.group_by is not None and value is not None:
                label = {"key": plan.group_by[0], "value": _any_value(value)}
                spanset["attributes"] = [label]
            trace["spanSets"].append(spanset)
        spanset["spans"].append(_span_json(row, labels))
    if found:
        stats = await rows(request, _service_stats_plan(list(found), plan.time))
        for row in stats:
            counts = {"spanCount": row["spans"]}
            if row["errors"]:
                counts["errorCount"] = row["errors"]
            found[row["trace_id"]].setdefault("serviceStats", {})[row["service"]] = counts
    traces = list(found.values())
    for trace in traces:
        trace["spanSet"] = trace["spanSets"][0]
    return JSONResponse({"traces": traces, "metrics": {"inspectedTraces": len(traces)}})


def _legacy_tags(text: str) -> Predicate | None:
    """Tempo's older ``tags`` search (logfmt ``k=v`` pairs): spans with every attribute,
    ``name`` being the span's name."""
    try:
        pairs = [item.partition("=") for item in shlex.split(text)]
    except ValueError as error:
        raise InvalidRequest(f"invalid tags: {error}") from None
    conditions: list[Predicate] = []
    for key, sign, value in pairs:
        if not sign or not key:
            raise InvalidRequest(f"invalid tags: expected key=value, got {key!r:.40}")
        left = Column("SpanName") if key == "name" else Attribute(key)
        conditions.append(Compare(left, Op.EQ, value))
    return all_of(*conditions)


def _trace_durations(params: Params) -> Predicate | None:
    """``minDuration`` and ``maxDuration`` (Go durations) bound the traces' durations."""
    low, high = params.duration_ns("minDuration"), params.duration_ns("maxDuration")
    if low is not None and high is not None and low > high:
        raise InvalidRequest("invalid maxDuration: must be greater than minDuration")
    return all_of(
        None if low is None else TraceCompare(TraceField.DURATION, Op.GE, low),
        None if high is None else TraceCompare(TraceField.DURATION, Op.LE, high),
    )


def _trace_json(row: dict[str, Any]) -> dict[str, Any]:
    root_service, root_name = row["root_service"], row["root_name"]
    if not row["roots"]:
        root_service, root_name = _ROOT_NOT_RECEIVED, ""
    trace: dict[str, Any] = {
        # Tempo writes trace ids without their leading zeros (and reads them padded).
        "traceID": row["trace_id"].hex().lstrip("0") or "0",
        "rootServiceName": root_service,
        "startTimeUnixNano": str(row["start_ns"]),
        "spanSets": [],
    }
    if root_name:
        trace["rootTraceName"] = root_name
    duration_ms = (row["end_ns"] - row["start_ns"]) // 1_000_000
    if duration_ms:
        trace["durationMs"] = duration_ms
    return trace


def _span_json(row: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    """A shown span: its service, and the values ``select`` asked for (``labels``)."""
    attributes = [{"key": "service.name", "value": {"stringValue": row["span_service"]}}]
    for n, label in enumerate(labels):
        value = row[f"field{n}"]
        if value is not None:
            attributes.append({"key": label, "value": _any_value(value)})
    return {
        "spanID": row["span_id"].hex(),
        "name": row["span_name"],
        "startTimeUnixNano": str(row["span_start_ns"]),
        "durationNanos": str(row["span_duration_ns"]),
        "attributes": attributes,
    }


def _service_stats_plan(trace_ids: list[bytes], time: TimeRange) -> Select:
    """Span and error counts per service of each trace, over the search's time range."""
    return Select(
        Table.SPANS,
        (
            Output("trace_id", Column("TraceId")),
            Output("service", Column("ServiceName")),
            Output("spans", Call("count")),
            Output(
                "errors",
                Call("count_if", (Compare(Column("StatusCode"), Op.EQ, 2),)),
            ),
        ),
        where=Or(tuple(Compare(Column("TraceId"), Op.EQ, t) for t in trace_ids)),
        time=time,
        group_by=("trace_id", "service"),
    )


@_tempo_errors
async def tag_names(request: Request) -> Response:
    """``GET /api/search/tags``: attribute names of recent spans (any scope)."""
    keys = await _sampled_keys(request, _time(Params(request.query_params)))
    names = sorted({key for scope in keys.values() for key in scope})
    return JSONResponse({"tagNames": names})


@_tempo_errors
async def tag_names_v2(request: Request) -> Response:
    """``GET /api/v2/search/tags``: attribute names by scope, and the intrinsics."""
    params = Params(request.query_params)
    scope = params.text("scope")
    if scope is not None and scope not in (*_SCOPES, "none", "all"):
        raise InvalidRequest(f"invalid scope: {scope}")
    wanted = _SCOPES if scope in (None, "none", "all") else (scope,)
    keys = await _sampled_keys(request, _time(params))
    scopes = []
    for name in wanted:
        tags = list(INTRINSIC_NAMES) if name == "intrinsic" else sorted(keys.get(name, ()))
        if tags:
            scopes.append({"name": name, "tags": tags})
    return JSONResponse({"scopes": scopes})


async def _sampled_keys(request: Request, time: TimeRange) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = {name: set() for name in _MAP_SCOPES}
    for row in await rows(request, span_keys_plan(time, _TAG_SAMPLE_SPANS)):
        for name, output in _MAP_SCOPES.items():
            keys[name].update(key for key, _ in row[output] or ())
    return keys


@_tempo_errors
async def tag_values(request: Request) -> Response:
    """``GET /api/search/tag/{tag}/values``: values of an attribute of any scope."""
    params = Params(request.query_params)
    tag = request.path_params["tag"]
    source = TagValues(key=tag, scopes=(AttributeScope.RECORD, AttributeScope.RESOURCE))
    found = await _values(request, source, params)
    return JSONResponse({"tagValues": [value for value, _ in found]})


@_tempo_errors
async def tag_values_v2(request: Request) -> Response:
    """``GET /api/v2/search/tag/{tag}/values``: typed values of a TraceQL field."""
    params = Params(request.query_params)
    source = tag_values_source(parse_field(request.path_params["field"]))
    found = await _values(request, source, params)
    return JSONResponse({"tagValues": [{"type": kind, "value": value} for value, kind in found]})


async def _values(request: Request, source: TagValues, params: Params) -> list[tuple[str, str]]:
    """(value, type) pairs of ``source``, most frequent first."""
    if source.keywords:
        return [(word, "keyword") for word in source.keywords]
    limit = params.limit("limit", default=1_000, maximum=10_000)
    time = _time(params)
    # Grafana sends the query being typed: the values of the spans it selects so far.
    where = filter_condition(params.text("q"))
    if source.column is not None:
        plan = column_values_plan(
            source.column, time, limit, roots_only=source.roots_only, where=where
        )
        found = await rows(request, plan)
        return [(str(row["value"]), "string") for row in found if row["value"] is not None]
    if source.key is None:
        return []
    plans = [
        attribute_values_plan(source.key, scope, time, limit, where=where)
        for scope in source.scopes
    ]
    counts: Counter[tuple[str, str]] = Counter()
    for found in await rows_of_each(request, plans):
        for row in found:
            counts[row["value"], value_type(row["code"])] += row["n"]
    return [pair for pair, _ in counts.most_common(limit)]


@_tempo_errors
async def metrics_range(request: Request) -> Response:
    """``GET /api/metrics/query_range``: a TraceQL metrics query, one value per step."""
    params = Params(request.query_params)
    time = _metrics_time(params)
    step_ns = _step_ns(params.text("step"), time)
    query = _metrics_query(params)
    comparison = metrics_comparison(query, time=time, step_ns=step_ns)
    if comparison is not None:
        found = comparison.series(await rows(request, comparison.plan))
        return JSONResponse({"series": [_series_json(s) for s in found], "metrics": {}})
    expression = metrics_expression(query, time=time, step_ns=step_ns)
    # Grafana asks for exemplars (example spans it links to) with exemplars=<how many>:
    # of one query's series (arithmetic's series stand for no single span).
    wanted = 0
    if params.text("exemplars") not in (None, "0") and len(expression.plans) == 1:
        wanted = params.limit("exemplars", default=0, maximum=_MAX_EXEMPLARS)
    if wanted:
        [planned] = expression.plans
        rows_, examples = await rows_of_each(
            request, [planned.plan, planned.exemplars_plan(wanted)]
        )
        found = planned.series(rows_, exemplar_rows=examples)
    else:
        results = await rows_of_each(request, [p.plan for p in expression.plans])
        found = expression.series(results)
    return JSONResponse({"series": [_series_json(s) for s in found], "metrics": {}})


@_tempo_errors
async def metrics_instant(request: Request) -> Response:
    """``GET /api/metrics/query``: a TraceQL metrics query over the whole range."""
    params = Params(request.query_params)
    time = _metrics_time(params)
    assert time.start is not None and time.end is not None
    query = _metrics_query(params)
    comparison = metrics_comparison(query, time=time, step_ns=_WHOLE_RANGE)
    if comparison is not None:
        found = comparison.series(await rows(request, comparison.plan))
    else:
        planned = metrics_plan(query, time=time, step_ns=_WHOLE_RANGE)
        seconds = (time.end - time.start) / 1e9
        found = planned.series(await rows(request, planned.plan), seconds=seconds)
    series = [{"labels": _labels(s.labels), "value": s.samples[0][1]} for s in found if s.samples]
    return JSONResponse({"series": series, "metrics": {}})


def _series_json(series: Series) -> dict[str, Any]:
    return {
        "labels": _labels(series.labels),
        "samples": [
            {"timestampMs": str(at // 1_000_000), "value": value} for at, value in series.samples
        ],
        **(
            {"exemplars": [_exemplar_json(e) for e in series.exemplars]} if series.exemplars else {}
        ),
    }


def _exemplar_json(exemplar: Exemplar) -> dict[str, Any]:
    # proto3 JSON writes a NaN double as the string "NaN".
    value: float | str = "NaN" if math.isnan(exemplar.value) else exemplar.value
    return {
        "labels": [
            {"key": "trace:id", "value": {"stringValue": exemplar.trace_id}},
            {"key": "span:id", "value": {"stringValue": exemplar.span_id}},
        ],
        "value": value,
        "timestampMs": str(exemplar.at_ns // 1_000_000),
    }


def _metrics_query(params: Params) -> str:
    query = params.text("q") or params.text("query")
    if query is None:
        raise InvalidRequest("q: a TraceQL metrics query is required, e.g. { } | rate()")
    return query


def _metrics_time(params: Params) -> TimeRange:
    """``start``/``end``, or the ``since`` before now (an hour by default)."""
    since = params.duration_ns("since")
    if since is not None and params.text("start") is None:
        return TimeRange(params.now_ns - since, params.now_ns)
    return params.time_range()


def _step_ns(text: str | None, time: TimeRange) -> int:
    """``step`` as seconds (``30``, ``0.5``) or a duration (``30s``); by default about a
    240th of the range, on a step people read easily. At most ``_MAX_STEPS`` steps."""
    assert time.start is not None and time.end is not None
    span = time.end - time.start
    if text is None:
        return next((s for s in _STEPS if s <= span // 240), _STEPS[-1])
    try:
        seconds = float(text)
    except ValueError:
        try:
            step = parse_duration_ns(text)
        except ValueError:
            raise InvalidRequest(
                f"step: expected seconds (30) or a duration (30s, 1m), got {text!r:.40}"
            ) from None
    else:
        if not math.isfinite(seconds) or seconds * 1e9 > _WHOLE_RANGE:
            raise InvalidRequest(f"step: {text!r:.40} is not a usable number of seconds")
        step = round(seconds * 1e9)
    if step <= 0:
        raise InvalidRequest(f"step: must be positive, got {text!r:.40}")
    if span // step > _MAX_STEPS:
        raise InvalidRequest(
            f"step: {text} gives more than {_MAX_STEPS} points over the range; "
            "use a larger step or a shorter range"
        )
    return step


def _labels(labels: tuple[tuple[str, object], ...]) -> list[dict[str, Any]]:
    return [{"key": key, "value": _any_value(value)} for key, value in labels]


def _any_value(value: object) -> dict[str, Any]:
    """A plain value as OTLP/JSON's ``AnyValue``."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def tempo_routes() -> list[Route]:
    """The routes of this module, for ``create_app``."""
    return [
        Route("/api/echo", echo),
        Route("/api/status/buildinfo", build_info),
        Route("/api/search", search),
        Route("/api/search/tags", tag_names),
        Route("/api/v2/search/tags", tag_names_v2),
        Route("/api/search/tag/{tag:path}/values", tag_values),
        Route("/api/v2/search/tag/{field:path}/values", tag_values_v2),
        Route("/api/metrics/query_range", metrics_range),
        Route("/api/metrics/query", metrics_instant),
    ]

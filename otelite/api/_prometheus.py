"""The Prometheus HTTP API (``/api/v1/...``) on the query port, as Grafana calls it.

Queries and their series come from ``otelite.query.promql``; this module reads the
parameters (GET or a POSTed form, as Grafana sends either), writes Prometheus's envelope
(``{"status", "data"}`` or ``{"status": "error", "errorType", "error"}``) and its result
shapes, and keeps the limits: a range query has at most 11,000 steps, and a query runs
for at most the server's query timeout (or the request's ``timeout``, when shorter).

Times are Unix seconds (a float) or RFC 3339; ``step`` is seconds or a duration
(``15s``). Values are strings, as Prometheus writes them (``"NaN"``, ``"+Inf"``). Without
``start`` and ``end``, ``series``, ``labels``, ``label/<name>/values`` and exemplars read
the last five minutes, where Prometheus reads all it has: a bound on what such a call
costs (Grafana always sends both).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import promql_parser
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite import __version__
from otelite.api._form import Form
from otelite.api._json import JSONResponse
from otelite.api._slo_rules import alerts as slo_alerts
from otelite.api._slo_rules import rules as slo_rules
from otelite.api._storage import storage_of
from otelite.errors import InvalidRequest
from otelite.query.promql import (
    Budget,
    Exemplar,
    Histograms,
    Matrix,
    QueryError,
    QueryTimeout,
    Scalar,
    StorageSource,
    String,
    Vector,
    evaluate,
    exemplars,
    fold_histograms,
    format_value,
    histogram_labels,
    histogram_samples,
    is_histogram_part,
    metric_type,
    parse,
    prometheus_unit,
    query_selectors,
    selector_matchers,
    split_histograms,
)
from otelite.storage import Storage

__all__ = ["prometheus_routes"]

MAX_POINTS = 11_000  # per series of a range query, as Prometheus allows
_DEFAULT_RANGE_MS = 5 * 60 * 1000  # series/labels without start: the last 5 minutes
_MAX_MS = 2**53  # about 285,000 years either side of 1970

Handler = Callable[[Request], Awaitable[Response]]


def _success(data: Any, warnings: list[str] | None = None) -> Response:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    return JSONResponse(body)


def _error(status: int, kind: str, message: str) -> Response:
    return JSONResponse(
        {"status": "error", "errorType": kind, "error": message}, status_code=status
    )


def _answering(handler: Handler, *, reads: bool = True) -> Handler:
    """Bad input as ``bad_data`` (400), a query that cannot be answered as
    ``execution`` (422): Prometheus's error envelope. A route that ``reads`` stored data
    first needs the request's tenant."""

    async def answer(request: Request) -> Response:
        if reads:
            storage_of(request)  # a refused tenant is the server's answer, not this API's
        try:
            return await handler(request)
        except QueryTimeout as problem:
            return _error(503, "timeout", str(problem))
        except QueryError as problem:
            return _error(422, "execution", str(problem))
        except InvalidRequest as problem:
            return _error(400, "bad_data", str(problem))

    return answer


class _Form(Form):
    """A request's parameters, with Prometheus's forms of times and durations."""

    def time_ms(self, name: str, default: int | None = None) -> int:
        text = self.get(name)
        if text is None:
            if default is None:
                raise InvalidRequest(f'invalid parameter "{name}": missing')
            return default
        try:
            seconds = float(text)
        except ValueError:
            try:
                return _bounded(name, datetime.fromisoformat(text).timestamp() * 1000, "timestamp")
            except ValueError:
                raise InvalidRequest(
                    f'invalid parameter "{name}": cannot parse "{text}" to a valid timestamp'
                ) from None
        return _bounded(name, seconds * 1000, "timestamp")

    def duration_ms(self, name: str) -> int:
        text = self.get(name)
        if text is None:
            raise InvalidRequest(f'invalid parameter "{name}": missing')
        try:
            return _bounded(name, float(text) * 1000, "duration")
        except ValueError:
            pass
        try:
            seconds = promql_parser.parse_duration(text).total_seconds()
        except (ValueError, OverflowError):
            raise InvalidRequest(
                f'invalid parameter "{name}": cannot parse "{text}" to a valid duration'
            ) from None
        return _bounded(name, seconds * 1000, "duration")


def _bounded(name: str, ms: float, what: str) -> int:
    """Milliseconds, refused when not finite or beyond what the engine's int64
    arithmetic on times keeps exact."""
    if not math.isfinite(ms) or abs(ms) > _MAX_MS:
        raise InvalidRequest(f'invalid parameter "{name}": {what} out of range')
    return round(ms)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _seconds(ms: int | float) -> float:
    return float(ms) / 1000.0


def _metric(labels: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(labels)


def _histogram(h: Histograms, step: int) -> dict[str, Any]:
    """A native histogram sample's value as Prometheus writes it."""
    return {
        "count": format_value(float(h.count[step])),
        "sum": format_value(float(h.sum[step])),
        "buckets": [
            [rule, format_value(lower), format_value(upper), format_value(count)]
            for rule, lower, upper, count in h.listed(step)
        ],
    }


@dataclass(frozen=True, slots=True)
class _Asked:
    """One query's text, its steps and the limits it runs under."""

    text: str
    steps: np.ndarray
    start_ms: int
    end_ms: int
    lookback_ms: int
    timeout_s: float | None


def _run_query(storage: Storage, asked: _Asked) -> Any:
    expr = parse(asked.text)
    return evaluate(
        expr,
        StorageSource(storage),
        asked.steps,
        start_ms=asked.start_ms,
        end_ms=asked.end_ms,
        lookback_ms=asked.lookback_ms,
        budget=Budget(timeout_s=asked.timeout_s),
    )


def _asked(request: Request, form: _Form, text: str, steps: np.ndarray) -> _Asked:
    """The query and its limits: the server's time limit, or the request's ``timeout``
    when that is shorter."""
    timeout: float | None = request.app.state.query_timeout_seconds
    if form.get("timeout") is not None:
        asked = form.duration_ms("timeout") / 1000
        if asked <= 0:
            raise InvalidRequest('invalid parameter "timeout": must be positive')
        timeout = asked if timeout is None else min(timeout, asked)
    return _Asked(text, steps, int(steps[0]), int(steps[-1]), _lookback(form), timeout)


def _lookback(form: _Form) -> int:
    if form.get("lookback_delta") is None:
        return 5 * 60 * 1000
    lookback = form.duration_ms("lookback_delta")
    if lookback <= 0:
        raise InvalidRequest('invalid parameter "lookback_delta": must be positive')
    return lookback


async def query(request: Request) -> Response:
    """``/api/v1/query``: an expression at one time (``time``, default now)."""
    form = await _Form.of(request)
    text = form.get("query")
    if text is None:
        raise InvalidRequest('invalid parameter "query": missing')
    at = form.time_ms("time", _now_ms())
    steps = np.array([at], dtype=np.int64)
    asked = _asked(request, form, text, steps)
    value = await run_in_threadpool(_run_query, storage_of(request), asked)
    t = _seconds(at)
    if isinstance(value, Scalar):
        return _success({"resultType": "scalar", "result": [t, format_value(value.values[0])]})
    if isinstance(value, String):
        return _success({"resultType": "string", "result": [t, value.value]})
    if isinstance(value, Matrix):
        return _success({"resultType": "matrix", "result": _raw_samples(value)})
    assert isinstance(value, Vector)
    value, parts = split_histograms(value)
    result = [
        {"metric": _metric(labels), "value": [t, format_value(float(value.values[row, 0]))]}
        for row, labels in enumerate(value.labels)
        if value.present[row, 0]
    ]
    result += [
        {"metric": _metric(h.labels), "histogram": [t, _histogram(h, 0)]}
        for h in fold_histograms(parts)
        if h.present[0]
    ]
    return _success({"resultType": "vector", "result": result})


def _raw_samples(matrix: Matrix) -> list[dict[str, Any]]:
    """An instant query of a range vector: each series' samples in its window."""
    found = []
    lo, hi = matrix.windows()
    for row, labels in enumerate(matrix.labels):
        if is_histogram_part(labels):
            continue
        times, values = (
            matrix.times[lo[row, 0] : hi[row, 0]],
            matrix.values[lo[row, 0] : hi[row, 0]],
        )
        if not len(times):
            continue
        found.append(
            {
                "metric": _metric(labels),
                "values": [
                    [_seconds(int(t)), format_value(float(v))]
                    for t, v in zip(times, values, strict=True)
                ],
            }
        )
    start, end = int(matrix.ends[0]) - matrix.range_ms, int(matrix.ends[0])
    for labels, times, h in histogram_samples(matrix.all_series()):
        steps = np.flatnonzero((times > start) & (times <= end))
        if len(steps):
            found.append(
                {
                    "metric": _metric(labels),
                    "histograms": [[_seconds(int(times[i])), _histogram(h, int(i))] for i in steps],
                }
            )
    return found


async def query_range(request: Request) -> Response:
    """``/api/v1/query_range``: an expression at every ``step`` from ``start`` to ``end``."""
    form = await _Form.of(request)
    text = form.get("query")
    if text is None:
        raise InvalidRequest('invalid parameter "query": missing')
    start, end = form.time_ms("start"), form.time_ms("end")
    if end < start:
        raise InvalidRequest('invalid parameter "end": end timestamp must not be before start time')
    step = form.duration_ms("step")
    if step <= 0:
        raise InvalidRequest(
            'invalid parameter "step": zero or negative query resolution step widths are not'
            " accepted. Try a positive integer"
        )
    if (end - start) // step + 1 > MAX_POINTS:
        raise InvalidRequest(
            "exceeded maximum resolution of 11,000 points per timeseries."
            " Try decreasing the query resolution (?step=XX)"
        )
    steps = np.arange(start, end + 1, step, dtype=np.int64)
    asked = _asked(request, form, text, steps)
    value = await run_in_threadpool(_run_query, storage_of(request), asked)
    if isinstance(value, Scalar):
        value = Vector([()], value.values[None, :], np.ones((1, len(steps)), dtype=bool))
    if not isinstance(value, Vector):
        kind = "range vector" if isinstance(value, Matrix) else "string"
        raise InvalidRequest(
            f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector'
        )
    value, parts = split_histograms(value)
    rows = sorted(range(len(value.labels)), key=lambda row: value.labels[row])
    seconds = steps / 1000.0
    result = []
    for row in rows:
        at = value.present[row]
        if not at.any():
            continue
        result.append(
            {
                "metric": _metric(value.labels[row]),
                "values": [
                    [float(t), format_value(float(v))]
                    for t, v in zip(seconds[at], value.values[row][at], strict=True)
                ],
            }
        )
    for h in sorted(fold_histograms(parts), key=lambda h: h.labels):
        at = np.flatnonzero(h.present)
        if len(at):
            result.append(
                {
                    "metric": _metric(h.labels),
                    "histograms": [[float(seconds[i]), _histogram(h, int(i))] for i in at],
                }
            )
    return _success({"resultType": "matrix", "result": result})


def _series_window(form: _Form) -> tuple[int, int]:
    end = form.time_ms("end", _now_ms())
    start = form.time_ms("start", end - _DEFAULT_RANGE_MS)
    if end < start:
        raise InvalidRequest('invalid parameter "end": end timestamp must not be before start time')
    return start, end


def _limit(form: _Form) -> int | None:
    text = form.get("limit")
    if text is None:
        return None
    try:
        limit = int(text)
    except ValueError:
        raise InvalidRequest('invalid parameter "limit": not a number') from None
    if limit < 0:
        raise InvalidRequest('invalid parameter "limit": must be a non-negative number')
    return limit or None


def _matching_series(
    storage: Storage, selectors: list[str], start: int, end: int
) -> list[dict[str, str]]:
    source = StorageSource(storage)
    found: dict[tuple[tuple[str, str], ...], None] = {}
    for selector in selectors:
        for labels in source.select(selector_matchers(selector), start, end).labels:
            found.setdefault(histogram_labels(labels))
    return [dict(labels) for labels in sorted(found)]


async def series(request: Request) -> Response:
    """``/api/v1/series``: the label sets of the series ``match[]`` selects."""
    form = await _Form.of(request)
    selectors = form.all("match[]")
    if not selectors:
        raise InvalidRequest("no match[] parameter provided")
    start, end = _series_window(form)
    found = await run_in_threadpool(_matching_series, storage_of(request), selectors, start, end)
    limit = _limit(form)
    warnings = None
    if limit is not None and len(found) > limit:
        found, warnings = found[:limit], ["results truncated due to limit"]
    return _success(found, warnings)


def _all_series(storage: Storage, form: _Form, start: int, end: int) -> list[dict[str, str]]:
    selectors = form.all("match[]") or ['{__name__=~".+"}']
    return _matching_series(storage, selectors, start, end)


async def labels(request: Request) -> Response:
    """``/api/v1/labels``: the label names of the series (``match[]`` narrows them)."""
    form = await _Form.of(request)
    start, end = _series_window(form)
    found = await run_in_threadpool(_all_series, storage_of(request), form, start, end)
    names = sorted({name for labels in found for name in labels})
    limit = _limit(form)
    return _success(names[:limit] if limit else names)


async def label_values(request: Request) -> Response:
    """``/api/v1/label/<name>/values``: the values the label takes."""
    form = await _Form.of(request)
    name = _unescaped(request.path_params["label"])
    start, end = _series_window(form)
    if name == "__name__" and not form.all("match[]"):
        source = StorageSource(storage_of(request))
        values = await run_in_threadpool(source.listed_names)
    else:
        found = await run_in_threadpool(_all_series, storage_of(request), form, start, end)
        values = sorted({labels[name] for labels in found if name in labels})
    limit = _limit(form)
    return _success(values[:limit] if limit else values)


def _unescaped(name: str) -> str:
    """A label name from the path, where Prometheus 3 escapes names that are not
    legacy ones: ``U__`` then ``_`` as ``__`` and other characters as ``_<hex>_``."""
    if not name.startswith("U__"):
        return name
    out, rest = [], name[3:]
    while rest:
        if rest.startswith("__"):
            out.append("_")
            rest = rest[2:]
        elif rest.startswith("_"):
            end = rest.find("_", 1)
            if end < 0:
                return name
            try:
                out.append(chr(int(rest[1:end], 16)))
            except ValueError:
                return name
            rest = rest[end + 1 :]
        else:
            out.append(rest[0])
            rest = rest[1:]
    return "".join(out)


async def metadata(request: Request) -> Response:
    """``/api/v1/metadata``: each metric family's type, help and unit."""
    form = await _Form.of(request)
    wanted = form.get("metric")
    source = StorageSource(storage_of(request))
    families = await run_in_threadpool(source.families)
    data: dict[str, list[dict[str, str]]] = {}
    for family in families:
        if wanted is not None and family.name != wanted:
            continue
        data.setdefault(family.name, []).append(
            {
                "type": metric_type(family.kind, family.monotonic),
                "help": family.description,
                "unit": prometheus_unit(family.unit),
            }
        )
    limit = _limit(form)
    if limit is not None:
        data = dict(list(data.items())[:limit])
    return _success(data)


def _exemplars_of(storage: Storage, text: str, start: int, end: int) -> list[dict[str, Any]]:
    source = StorageSource(storage)
    found: dict[tuple[tuple[str, str], ...], list[Exemplar]] = {}
    for matchers in query_selectors(parse(text)):
        for labels, items in exemplars(source, matchers, start, end).items():
            found.setdefault(labels, items)
    return [
        {
            "seriesLabels": dict(labels),
            "exemplars": [
                {
                    "labels": item.labels,
                    "value": format_value(item.value),
                    "timestamp": _seconds(item.time_ms),
                }
                for item in items
            ],
        }
        for labels, items in sorted(found.items())
    ]


async def query_exemplars(request: Request) -> Response:
    """``/api/v1/query_exemplars``: the exemplars, in ``start``..``end``, of the series
    the query's selectors pick (Grafana links them to their traces)."""
    form = await _Form.of(request)
    text = form.get("query")
    if text is None:
        raise InvalidRequest('invalid parameter "query": missing')
    start, end = _series_window(form)
    found = await run_in_threadpool(_exemplars_of, storage_of(request), text, start, end)
    return _success(found)


async def format_query(request: Request) -> Response:
    """``/api/v1/format_query``: the expression, formatted."""
    form = await _Form.of(request)
    text = form.get("query")
    if text is None:
        raise InvalidRequest('invalid parameter "query": missing')
    return _success(parse(text).prettify())


async def build_info(request: Request) -> Response:
    """``/api/v1/status/buildinfo``; no ``features`` map, which would make Grafana take
    otelite for Mimir."""
    return _success(
        {
            "version": "3.0.0",
            "revision": f"otelite {__version__}",
            "branch": "",
            "buildUser": "",
            "buildDate": "",
            "goVersion": "",
        }
    )


async def rules(request: Request) -> Response:
    """``/api/v1/rules``: the SLOs' burn-rate alerting rules (``_slo_rules``)."""
    return _success(await slo_rules(request))


async def alerts(request: Request) -> Response:
    """``/api/v1/alerts``: the SLOs' alerts that fire (``_slo_rules``)."""
    return _success(await slo_alerts(request))


def prometheus_routes() -> list[Route]:
    """The routes of this module, for ``create_app``."""
    both = ["GET", "POST"]
    return [
        Route("/api/v1/query", _answering(query), methods=both),
        Route("/api/v1/query_range", _answering(query_range), methods=both),
        Route("/api/v1/series", _answering(series), methods=both),
        Route("/api/v1/labels", _answering(labels), methods=both),
        Route("/api/v1/label/{label:path}/values", _answering(label_values)),
        Route("/api/v1/metadata", _answering(metadata)),
        Route("/api/v1/query_exemplars", _answering(query_exemplars), methods=both),
        # Nothing stored answers these yet: they need no tenant.
        Route("/api/v1/format_query", _answering(format_query, reads=False), methods=both),
        Route("/api/v1/status/buildinfo", _answering(build_info, reads=False)),
        Route("/api/v1/rules", _answering(rules)),
        Route("/api/v1/alerts", _answering(alerts)),
    ]

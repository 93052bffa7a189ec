"""Loki's index endpoints: ``index/stats`` (what a selector's streams hold, which Grafana
shows as a query's size) and ``index/volume``, ``index/volume_range`` (bytes per series or
label, which Logs Drilldown ranks services by), over ``otelite.query.logql``'s
:func:`~otelite.query.logql.index_stats` and :func:`~otelite.query.logql.volume`.

``index/stats`` answers ``{"streams", "chunks", "entries", "bytes"}`` without an envelope;
``chunks`` is an estimate (otelite keeps no chunks: one per stream and two hours). A
volume answers Loki's Prometheus-style body: a ``vector`` of ``{"metric", "value"}`` when
every series has one sample (always, for ``index/volume``), else a ``matrix`` of
``{"metric", "values"}``; a sample is ``[unix seconds, "bytes"]``. Parameters are Loki's:
``query`` (a selector; ``{}`` for every stream, for a volume), ``start``, ``end``,
``limit`` (series per bucket, default 100), ``step`` (``volume_range``), ``targetLabels``
(comma-separated) and ``aggregateBy`` (``series`` or ``labels``).
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from otelite.api._json import JSONResponse
from otelite.api._loki import PREFIX, answering, query_window, stream_selector
from otelite.api._loki_metrics import sample_time
from otelite.api._loki_params import Params
from otelite.api._storage import storage_of
from otelite.errors import InvalidRequest
from otelite.query.logql import Matcher, VolumeBy, VolumeSeries, index_stats, volume
from otelite.query.promql import Budget

__all__ = ["loki_index_routes"]

DEFAULT_VOLUME_LIMIT = 100
_MATCH_ANY = "{}"


def _budget(request: Request) -> Budget:
    return Budget(timeout_s=request.app.state.query_timeout_seconds)


async def stats(request: Request) -> Response:
    """``index/stats``: streams, chunks (estimated), entries and bytes of a selector."""
    form = await Params.of(request)
    window = query_window(form)
    selector = stream_selector(form.get("query") or "", strict=True)
    found = await run_in_threadpool(
        index_stats, storage_of(request), selector, window, _budget(request)
    )
    return JSONResponse(
        {
            "streams": found.streams,
            "chunks": found.chunks,
            "entries": found.entries,
            "bytes": found.bytes,
        }
    )


async def volume_instant(request: Request) -> Response:
    """``index/volume``: bytes per series (or label) over the whole range."""
    return await _volume(request, ranged=False)


async def volume_range(request: Request) -> Response:
    """``index/volume_range``: bytes per series (or label) per step."""
    return await _volume(request, ranged=True)


async def _volume(request: Request, *, ranged: bool) -> Response:
    form = await Params.of(request)
    limit = _volume_limit(form)
    window = query_window(form)
    assert window.start is not None and window.end is not None
    step = form.step(window.start, window.end) if ranged else None
    text = form.get("query") or ""
    selector: tuple[Matcher, ...] = ()
    if text.replace(" ", "") != _MATCH_ANY:
        selector = stream_selector(text, strict=True)
    targets = [t for t in (form.get("targetLabels") or "").split(",") if t]
    found = await run_in_threadpool(
        lambda: volume(
            storage_of(request),
            selector,
            window,
            step_ns=step,
            target_labels=targets,
            by=_aggregate_by(form),
            limit=limit,
            budget=_budget(request),
        )
    )
    return JSONResponse({"status": "success", "data": _prometheus_data(found)})


def _volume_limit(form: Params) -> int:
    """``limit``: series per bucket; 0 means the default, as in Loki."""
    if form.count("limit", DEFAULT_VOLUME_LIMIT) == 0:
        return DEFAULT_VOLUME_LIMIT
    return form.positive("limit", DEFAULT_VOLUME_LIMIT)


def _aggregate_by(form: Params) -> VolumeBy:
    text = form.get("aggregateBy")
    if text is None:
        return VolumeBy.SERIES
    try:
        return VolumeBy(text)
    except ValueError:
        raise InvalidRequest("invalid aggregation option") from None


def _sample(at_ns: int, size: int) -> list[Any]:
    """A sample as Prometheus writes it: its time and the value as text."""
    return [sample_time(at_ns), str(size)]


def _prometheus_data(found: list[VolumeSeries]) -> dict[str, Any]:
    if all(len(series.points) <= 1 for series in found):
        return {
            "resultType": "vector",
            "result": [{"metric": dict(s.labels), "value": _sample(*s.points[0])} for s in found],
        }
    return {
        "resultType": "matrix",
        "result": [
            {"metric": dict(s.labels), "values": [_sample(*p) for p in s.points]} for s in found
        ],
    }


def loki_index_routes() -> list[Route]:
    """The routes of this module, for ``loki_routes``."""
    both = ["GET", "POST"]
    return [
        Route(f"{PREFIX}/index/stats", answering(stats), methods=both),
        Route(f"{PREFIX}/index/volume", answering(volume_instant), methods=both),
        Route(f"{PREFIX}/index/volume_range", answering(volume_range), methods=both),
    ]

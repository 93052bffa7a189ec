"""The parameters of Jaeger's query APIs, read as Jaeger reads them, into plans.

v1 takes ``start``/``end`` in µs and ``endTs``/``lookback`` in ms, v3 RFC 3339 times
(``query.startTimeMin``/``Max``, camelCase or the older snake_case names); both take
Go durations (``1.2s``) and tags as a JSON object of strings. Every error names the
parameter and the form it takes.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence

import orjson
from starlette.datastructures import QueryParams

from otelite.analysis import MAP_MAX_RANGE_NS
from otelite.api._jaeger_model import tag_condition
from otelite.api._params import Params, parse_trace_id
from otelite.errors import InvalidRequest
from otelite.query import HasSpan, SpanFilter, TimeRange, TraceSearch, all_of

__all__ = [
    "dependency_range",
    "jaeger_trace_id_param",
    "v1_search_plan",
    "v3_name",
    "v3_search_plan",
]

_US = 1_000
_MS = 1_000_000
_HOUR = 3600 * 10**9
_INT64_MAX = 2**63 - 1
_SEARCH_LOOKBACK_NS = 48 * _HOUR
_DEPENDENCY_LOOKBACK_NS = 24 * _HOUR
_DEFAULT_LIMIT = 100
_MAX_LIMIT = 1000
_HEX = re.compile(r"[0-9a-fA-F]{1,32}")
_INTEGER = re.compile(r"-?[0-9]{1,19}")


def jaeger_trace_id_param(text: str, name: str) -> bytes:
    """Hex (1 to 32 digits, as ``parse_trace_id`` reads it) or the base64 of 8 or 16
    bytes (standard or URL alphabet, padded or not), as Jaeger takes trace ids."""
    if _HEX.fullmatch(text):
        return parse_trace_id(text, name)
    raw = _base64(text)
    if raw is None or len(raw) not in (8, 16):
        raise InvalidRequest(
            f"{name}: expected 1 to 32 hex digits or the base64 of 8 or 16 bytes, got {text!r:.60}"
        )
    trace_id = raw.rjust(16, b"\0")
    if trace_id == bytes(16):
        raise InvalidRequest(f"{name}: the all-zero trace id is not valid")
    return trace_id


def _base64(text: str) -> bytes | None:
    if len(text) > 24:  # 16 bytes are 24 characters with padding
        return None
    padded = text + "=" * (-len(text) % 4)
    for altchars in (None, b"-_"):
        try:
            return base64.b64decode(padded, altchars=altchars, validate=True)
        except ValueError:
            continue
    return None


def _integer(params: Params, name: str, unit: str) -> int | None:
    text = params.text(name)
    if text is None:
        return None
    if not _INTEGER.fullmatch(text):
        raise InvalidRequest(f"{name}: expected an integer in {unit}, got {text!r:.40}")
    return int(text)


def _unix_ns(params: Params, name: str, scale: int, unit: str) -> int | None:
    value = _integer(params, name, f"Unix {unit}")
    if value is None:
        return None
    if not 0 <= value * scale <= _INT64_MAX:
        raise InvalidRequest(f"{name}: outside 1970 to 2262")
    return value * scale


def _inclusive(start: int, end: int, end_name: str) -> TimeRange:
    if end < start:
        raise InvalidRequest(f"{end_name}: must not be before the start of the range")
    # Jaeger's bounds are inclusive: a span that starts exactly at the end is in.
    return TimeRange(start, end + 1)


def _durations(params: Params, low: str, high: str) -> tuple[int | None, int | None]:
    shortest, longest = params.duration_ns(low), params.duration_ns(high)
    if shortest is not None and longest is not None and longest < shortest:
        raise InvalidRequest(f"{high}: must not be shorter than {low}")
    return shortest, longest


def _string_map(texts: Sequence[str], name: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for text in texts:
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            value = None
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise InvalidRequest(
                f'{name}: expected a JSON object of strings like {{"error":"true"}},'
                f" got {text!r:.80}"
            )
        found.update(value)
    return found


def _tag_pairs(items: Sequence[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        key, colon, value = item.partition(":")
        if not colon:
            raise InvalidRequest(f"tag: expected key:value, got {item!r:.80}")
        pairs[key] = value
    return pairs


def _search_plan(
    *,
    service: str | None,
    operation: str | None,
    tags: dict[str, str],
    durations: tuple[int | None, int | None],
    time: TimeRange,
    limit: int,
) -> TraceSearch:
    """``trace_search_plan``'s search, with each tag as Jaeger's storage reads it."""
    span = SpanFilter(
        service=service,
        name=operation,
        min_duration_ns=durations[0],
        max_duration_ns=durations[1],
    )
    tagged = [tag_condition(key, value) for key, value in tags.items()]
    return TraceSearch(HasSpan(all_of(span.predicate(), *tagged)), time, limit)


def v1_search_plan(params: Params, query: QueryParams) -> TraceSearch:
    """``/api/traces``'s search: ``service`` (required), ``operation``, ``tags`` and
    ``tag``, ``minDuration``/``maxDuration``, ``limit`` (100), ``start``/``end`` in µs
    (the last 2 days)."""
    tags = {**_tag_pairs(query.getlist("tag")), **_string_map(query.getlist("tags"), "tags")}
    durations = _durations(params, "minDuration", "maxDuration")
    limit = params.limit("limit", default=_DEFAULT_LIMIT, maximum=_MAX_LIMIT)
    end = _unix_ns(params, "end", _US, "microseconds")
    end = params.now_ns if end is None else end
    start = _unix_ns(params, "start", _US, "microseconds")
    start = max(0, params.now_ns - _SEARCH_LOOKBACK_NS) if start is None else start
    time = _inclusive(start, end, "end")
    service = params.text("service")
    if service is None:
        raise InvalidRequest("service: required (the service to search in), unless traceID is")
    return _search_plan(
        service=service,
        operation=params.text("operation"),
        tags=tags,
        durations=durations,
        time=time,
        limit=limit,
    )


def dependency_range(params: Params) -> TimeRange:
    """``/api/dependencies``'s window: ``lookback`` (24 h) ms before ``endTs`` (now) ms,
    of which the newest ``MAP_MAX_RANGE_NS`` at most: a longer lookback gets the newest part
    a service map covers, as Jaeger's clients have no way to hear of a refusal."""
    end = _unix_ns(params, "endTs", _MS, "milliseconds")
    end = params.now_ns if end is None else end
    lookback = _integer(params, "lookback", "milliseconds")
    lookback_ns = _DEPENDENCY_LOOKBACK_NS if lookback is None else lookback * _MS
    if lookback_ns < 0:
        raise InvalidRequest(f"lookback: must not be negative, got {lookback}")
    return TimeRange(max(0, end - min(lookback_ns, MAP_MAX_RANGE_NS)), end)


def v3_name(params: Params, canonical: str, *deprecated: str) -> str:
    """The name the request uses: ``canonical`` unless only a deprecated alias is set."""
    names = (canonical, *deprecated)
    return next((name for name in names if params.text(name) is not None), canonical)


def v3_search_plan(params: Params) -> TraceSearch:
    """The v3 search (``/api/v3/traces``, ``/api/v3/trace-summaries``): ``query.*``."""
    if params.text("query.filter") is not None:
        raise InvalidRequest("query.filter: not supported here; use query.attributes")
    low = v3_name(params, "query.startTimeMin", "query.start_time_min")
    high = v3_name(params, "query.startTimeMax", "query.start_time_max")
    start, end = params.time(low), params.time(high)
    if start is None or end is None:
        raise InvalidRequest("query.startTimeMin and query.startTimeMax are required")
    if start >= end:
        raise InvalidRequest(f"{low}: must be before {high}")
    depth = v3_name(params, "query.searchDepth", "query.search_depth", "query.num_traces")
    durations = _durations(
        params,
        v3_name(params, "query.durationMin", "query.duration_min"),
        v3_name(params, "query.durationMax", "query.duration_max"),
    )
    attributes = params.text("query.attributes")
    return _search_plan(
        service=params.text(v3_name(params, "query.serviceName", "query.service_name")),
        operation=params.text(v3_name(params, "query.operationName", "query.operation_name")),
        tags=_string_map([attributes] if attributes else [], "query.attributes"),
        durations=durations,
        time=_inclusive(start, end, high),
        limit=params.limit(depth, default=_DEFAULT_LIMIT, maximum=_MAX_LIMIT),
    )

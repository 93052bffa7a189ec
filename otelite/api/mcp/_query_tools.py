"""Tools over the query languages: PromQL over metrics, LogQL over logs, and the metric
catalogue under the names PromQL selects them by.

``query_promql`` and ``query_logql`` ask otelite's Prometheus and Loki APIs; each series
comes summarised (``_series``), and log lines grouped by stream (``_log_lines``). The
range's ``step`` defaults to one that gives at most ``DEFAULT_POINTS`` steps: enough to
see a shape, few enough to read. ``list_metrics`` joins the catalogue (``/api/metrics``:
OTLP names, types, units, descriptions) to the names PromQL knows
(``/api/v1/label/__name__/values``), through the OpenTelemetry-to-Prometheus naming
rules of ``otelite.query.promql``: ``shop.orders`` (a monotonic sum) is
``shop_orders_total``, a histogram is read through its ``_bucket``, ``_sum`` and
``_count`` series.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from otelite.api.mcp._answers import Call
from otelite.api.mcp._log_lines import CATEGORIZED, line_groups, lines_per_group
from otelite.api.mcp._pages import page
from otelite.api.mcp._series import result_items
from otelite.api.mcp._times import Period, iso_ns
from otelite.api.mcp._trace_tools import READ_ONLY, ApiOf, CursorArg, End, MaxChars, Start
from otelite.query.promql import MetricKind, Naming, metric_name, metric_type, series_index

__all__ = ["DEFAULT_POINTS", "register_query_tools"]

DEFAULT_POINTS = 60
"""The most steps a range query has when no ``step`` is given."""
MAX_LOG_LINES = 5000
"""The most lines a log query reads: the Loki API's own limit."""
_FROM_SPANS = "traces_"
"""How the families otelite derives from spans begin (as Tempo's metrics generator
names them): they are in the catalogue whether or not any metric was sent."""

Step = Annotated[
    str,
    Field(
        description="the range query's resolution: seconds or a duration such as 30s or "
        f"5m; default: the range in at most {DEFAULT_POINTS} steps"
    ),
]


def register_query_tools(server: MCPServer, api_of: ApiOf) -> None:
    """Add the query-language tools to ``server``."""

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def query_promql(
        ctx: Context,
        # Plain str: the SDK reads any other string argument that looks like JSON as JSON.
        query: Annotated[
            str,
            Field(
                description="a PromQL expression, e.g. sum by (service_name) "
                "(rate(http_server_request_duration_seconds_count[5m])); list_metrics "
                "gives the metric names"
            ),
        ] = "",
        instant: Annotated[
            bool, Field(description="evaluate at one time (`end`) instead of over the range")
        ] = False,
        step: Step = "",
        start: Start = None,
        end: End = None,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """A PromQL query over the range (or at one instant with instant=true), on the
        metrics otelite received and those it derives from spans
        (traces_spanmetrics_*, traces_service_graph_*). Each series comes with its
        labels; over a range, a summary (points, first/last time, min, max, mean, last
        value) and its values at no more than 20 evenly spaced steps; at an instant,
        its value. Series are ordered by their last value, highest first. Use
        list_metrics first to learn the names."""
        call = Call(
            "query_promql",
            cursor,
            {
                "query": query or None,
                "instant": instant or None,
                "step": step or None,
                "start": start,
                "end": end,
                "max_chars": max_chars,
            },
        )
        when = call.period()
        text = call.text("query")
        head: dict[str, Any] = {"query": text}
        if call.args.get("instant"):
            params = {"query": text, "time": when.seconds["end"]}
            path = "/api/v1/query"
            head["time"] = iso_ns(when.end_ns)
        else:
            params = {"query": text, **when.seconds, "step": _step(call, when)}
            path = "/api/v1/query_range"
            head.update(start=iso_ns(when.start_ns), end=iso_ns(when.end_ns), step=params["step"])
        async with api_of(ctx) as api:
            found = await api.json(path, params)
        kind, series = result_items(found["data"])
        head.update(kind, **_warnings(found))
        return page(head, "series", series, budget=call.budget, cursor=call.cursor)

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def list_metrics(
        ctx: Context,
        name: Annotated[
            str,
            Field(description="only metrics whose name holds this text (either name form)"),
        ] = "",
        service: Annotated[str | None, Field(description="only metrics this service sent")] = None,
        start: Start = None,
        end: End = None,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """The metrics received in the range, by name: the name PromQL selects it by
        (with the series to select where a histogram has several: _bucket, _sum,
        _count), its Prometheus type (counter, gauge, histogram, summary), unit,
        description and number of series, and its OpenTelemetry name. Then the metrics
        otelite derives from spans (fromSpans), always there. Use before query_promql.
        Example: {"name": "http_server"} for the HTTP server metrics.
        """
        call = Call(
            "list_metrics",
            cursor,
            {
                "name": name or None,
                "service": service,
                "start": start,
                "end": end,
                "max_chars": max_chars,
            },
        )
        when = call.period()
        async with api_of(ctx) as api:
            stored = await api.json(
                "/api/metrics", {**when.seconds, "service": call.args.get("service")}
            )
            listed = set((await api.json("/api/v1/label/__name__/values"))["data"])
            families = (await api.json("/api/v1/metadata"))["data"]
        metrics = [_catalogued(m, listed) for m in stored["metrics"]]
        named = {m["name"] for m in metrics}
        metrics += [
            _from_spans(family, found[0])
            for family, found in sorted(families.items())
            if family.startswith(_FROM_SPANS) and family not in named
        ]
        wanted = str(call.args.get("name", "")).lower()
        metrics = [
            m
            for m in metrics
            if wanted in (m["name"] or "").lower() or wanted in m.get("otelName", "").lower()
        ]
        head: dict[str, Any] = {"start": iso_ns(when.start_ns), "end": iso_ns(when.end_ns)}
        if wanted:
            head["name"] = wanted
        return page(head, "metrics", metrics, budget=call.budget, cursor=call.cursor)

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def query_logql(
        ctx: Context,
        # Plain str: the SDK would read the LogQL `{}` as a JSON object.
        query: Annotated[
            str,
            Field(
                description='a LogQL query: log lines, e.g. {service_name="checkout"} '
                '|= "timeout" | detected_level="error", or a metric over them, e.g. '
                'sum by (service_name) (count_over_time({service_namespace="shop"} '
                '| detected_level="error" [1m]))'
            ),
        ] = "",
        direction: Annotated[
            Literal["backward", "forward"],
            Field(description="backward: newest lines first; forward: oldest first"),
        ] = "backward",
        limit: Annotated[
            int,
            Field(description=f"most lines to read (1 to {MAX_LOG_LINES})", ge=1, le=MAX_LOG_LINES),
        ] = 100,
        step: Step = "",
        start: Start = None,
        end: End = None,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """A LogQL query over the range. A log query answers its lines (newest first
        unless direction=forward, at most `limit`), grouped by stream: the stream's
        labels once, the labels all lines of a group share once, then each line with
        its time and its own labels (structured metadata such as trace_id, and what
        parsers like | json added). A metric query (count_over_time, rate, ...)
        answers series summarised as query_promql's. Stream labels are the resource's
        (service_name, k8s_*, ...); log attributes and detected_level are filtered
        after a pipe: | detected_level="error"."""
        call = Call(
            "query_logql",
            cursor,
            {
                "query": query or None,
                "direction": direction,
                "limit": limit,
                "step": step or None,
                "start": start,
                "end": end,
                "max_chars": max_chars,
            },
        )
        when = call.period()
        text = call.text("query")
        args = call.args
        params = {
            "query": text,
            **when.seconds,
            "step": _step(call, when),
            "limit": args.get("limit", 100),
            "direction": args.get("direction", "backward"),
        }
        async with api_of(ctx) as api:
            found = await api.json("/loki/api/v1/query_range", params, headers=CATEGORIZED)
        data = found["data"]
        head: dict[str, Any] = {
            "query": text,
            "start": iso_ns(when.start_ns),
            "end": iso_ns(when.end_ns),
        }
        head.update(_warnings(found))
        if data.get("resultType") != "streams":
            kind, series = result_items(data)
            head.update(step=params["step"], **kind)
            return page(head, "series", series, budget=call.budget, cursor=call.cursor)
        forward = params["direction"] == "forward"
        groups = line_groups(
            data["result"], forward=forward, per_group=lines_per_group(call.budget)
        )
        lines = sum(len(g["lines"]) for g in groups)
        head.update(direction=params["direction"], lines=lines)
        notes = []
        if lines >= int(params["limit"]):
            edge = "newest" if forward else "oldest"
            notes.append(
                f"as many lines as `limit` were read: there are more; raise `limit` or "
                f"move `{'start' if forward else 'end'}` past the {edge} line here"
            )
        return page(head, "streams", groups, budget=call.budget, cursor=call.cursor, notes=notes)


def _step(call: Call, when: Period) -> str:
    """The call's ``step``, or one that gives at most ``DEFAULT_POINTS`` steps."""
    given = call.args.get("step")
    if given:
        return str(given)
    seconds = (when.end_ns - when.start_ns) / 1e9
    return f"{max(1, math.ceil(seconds / (DEFAULT_POINTS - 1)))}s"


def _warnings(found: dict[str, Any]) -> dict[str, list[str]]:
    """What the API warned of (and Prometheus's ``infos``), for the answer's head."""
    said = [*found.get("warnings", ()), *found.get("infos", ())]
    return {"warnings": said} if said else {}


def _catalogued(metric: dict[str, Any], listed: set[str]) -> dict[str, Any]:
    """A stored metric under the name PromQL selects it by (``series_index`` gives the
    names under each naming; the escaped one is what the API lists and PromQL parses)."""
    otel, unit, kind = metric["name"], metric["unit"], MetricKind(metric["type"])
    found: dict[str, Any] = {"name": None}
    for monotonic in (True, False):
        names = sorted(
            series
            for series, sources in series_index([(otel, unit, kind, monotonic)]).items()
            if any(s.naming is Naming.ESCAPED for s in sources)
        )
        if names and set(names) <= listed:
            found["name"] = metric_name(otel, unit, kind, monotonic)
            found["type"] = metric_type(kind, monotonic)
            if names != [found["name"]]:
                found["select"] = names
            break
    else:
        found["note"] = "PromQL has no name for it"
    found.update(
        unit=unit,
        description=metric["description"] or None,
        series=metric["seriesCount"],
        otelName=otel,
        otelType=metric["type"],
    )
    return {k: v for k, v in found.items() if v is not None or k == "name"}


def _from_spans(family: str, found: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {"name": family, "type": found["type"]}
    if found["type"] == "histogram":
        item["select"] = [f"{family}_{part}" for part in ("bucket", "count", "sum")]
    item.update(unit=found["unit"] or None, description=found["help"], fromSpans=True)
    return {k: v for k, v in item.items() if v is not None}

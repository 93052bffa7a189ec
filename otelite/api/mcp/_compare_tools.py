"""Tools that compare: two traces aligned by structure, and two groups of spans by their
attribute values.

Both answer from ``/api/compare``'s endpoints. A trace comparison lists only what changed
(most total time gained or lost first) and counts the rest, since two traces of one
request mostly agree. A group comparison keeps both shares of each value, which is what
says why it ranks: common in the selection, rare in the baseline, or the reverse.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from otelite.api.mcp._answers import Call, rounded
from otelite.api.mcp._pages import page
from otelite.api.mcp._times import iso_ns
from otelite.api.mcp._trace_tools import READ_ONLY, ApiOf, CursorArg, End, MaxChars, Start

__all__ = ["register_compare_tools"]

_MS = 1_000_000


def register_compare_tools(server: MCPServer, api_of: ApiOf) -> None:
    """Add ``compare_traces`` and ``compare_groups`` to ``server``."""

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def compare_traces(
        ctx: Context,
        a: Annotated[str, Field(description="the trace to compare with (32 hex digits)")] = "",
        b: Annotated[str, Field(description="the trace compared (32 hex digits)")] = "",
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """Two traces of the same kind of request aligned by structure (the path of
        service and operation from the root): what b has that a has not (added), what
        it lacks (missing), and what got slower or faster, largest change of total time
        first; unchanged parts are only counted. Use it to see why one request failed
        or was slow where a similar one was fine.
        Example: {"a": <a usual trace id>, "b": <a slow trace id of the same request>}.
        """
        call = Call("compare_traces", cursor, {"a": a, "b": b, "max_chars": max_chars})
        first, second = call.text("a"), call.text("b")
        async with api_of(ctx) as api:
            found = await api.json("/api/compare/traces", {"a": first, "b": second})
        nodes = found["nodes"]
        labels = [f"{n['service']}: {n['operation']}" for n in nodes]
        changed = [
            _aligned(node, _ancestors(nodes, labels, index))
            for index, node in enumerate(nodes)
            if _changed(node)
        ]
        changed.sort(key=lambda n: -abs(n["changeMs"]))
        head = {
            "a": _trace_side(found["a"]),
            "b": _trace_side(found["b"]),
            "summary": found["summary"],
            "unchanged": len(nodes) - len(changed),
        }
        notes = [
            f"{side}: only its first {found[side]['spans']} spans were compared"
            for side in ("a", "b")
            if found[side]["truncated"]
        ]
        return page(head, "changed", changed, budget=call.budget, cursor=call.cursor, notes=notes)

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def compare_groups(
        ctx: Context,
        selection: Annotated[
            str,
            Field(
                description="TraceQL span set query: the spans to explain, e.g. "
                "{ status = error } or { duration > 1s }; "
                "{ status = error } !< { status = error } is where errors start"
            ),
        ] = "",
        baseline: Annotated[
            str,
            Field(description="TraceQL: the spans to compare with; default every other span"),
        ] = "",
        selection_start: Annotated[
            str | None,
            Field(
                description="keep in the selection only its spans after this time "
                "(with selection_end; the default baseline only)"
            ),
        ] = None,
        selection_end: Annotated[str | None, Field(description="... and up to this time")] = None,
        start: Start = None,
        end: End = None,
        limit: Annotated[
            int, Field(description="most values to rank (1 to 1000)", ge=1, le=1000)
        ] = 50,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """What sets a group of spans apart: the attribute values (span and resource
        attributes, span names) most over- or under-represented in the selection
        compared with the baseline, each with its share of both. Use it to find what
        failing or slow spans have in common, e.g. with the selection
        `{ status = error } !< { status = error }` (error spans with no failing child:
        where errors start) against the rest."""
        call = Call(
            "compare_groups",
            cursor,
            {
                "selection": selection or None,
                "baseline": baseline or None,
                "selection_start": selection_start,
                "selection_end": selection_end,
                "start": start,
                "end": end,
                "limit": limit,
                "max_chars": max_chars,
            },
        )
        when = call.period()
        window = call.optional_period("selection_start", "selection_end")
        chosen = call.text("selection")
        args = call.args
        async with api_of(ctx) as api:
            found = await api.json(
                "/api/compare",
                {
                    **when.seconds,
                    "selection": chosen,
                    "baseline": args.get("baseline"),
                    "selectionStart": None if window is None else window.seconds["start"],
                    "selectionEnd": None if window is None else window.seconds["end"],
                    "limit": args.get("limit", 50),
                },
                names={"selectionStart": "selection_start", "selectionEnd": "selection_end"},
            )
        values = [_value(v) for v in found["values"]]
        head = {
            "start": iso_ns(when.start_ns),
            "end": iso_ns(when.end_ns),
            "selection": found["selection"],
            "baseline": found["baseline"],
        }
        return page(
            head,
            "values",
            values,
            budget=call.budget,
            cursor=call.cursor,
            notes=_group_notes(found),
        )


def _trace_side(found: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "traceId": found["traceId"],
        "spans": found["spans"],
        "durationMs": rounded(found["durationNs"] / _MS, 3),
    }


def _changed(node: Mapping[str, Any]) -> bool:
    return bool(node["change"] != "same" or node["added"] or node["missing"])


def _ancestors(nodes: list[dict[str, Any]], labels: list[str], index: int) -> list[str]:
    """The service and operation of each node above ``index``, from the root down."""
    found = []
    parent = nodes[index]["parent"]
    while parent >= 0:
        found.append(labels[parent])
        parent = nodes[parent]["parent"]
    return found[::-1]


def _aligned(node: Mapping[str, Any], under: list[str]) -> dict[str, Any]:
    before, after = node["a"], node["b"]
    total_a = before["totalNs"] if before else 0
    total_b = after["totalNs"] if after else 0
    found: dict[str, Any] = {
        "service": node["service"],
        "operation": node["operation"],
        "under": under,
        "change": node["change"],
        "changeMs": rounded((total_b - total_a) / _MS, 3),
        "a": _side_stats(before),
        "b": _side_stats(after),
    }
    for key in ("added", "missing"):
        if node[key]:
            found[key] = node[key]
    if node["deltaNs"]:
        found["matchedDeltaMs"] = rounded(node["deltaNs"] / _MS, 3)
    return found


def _side_stats(found: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "count": found["count"],
        "totalMs": rounded(found["totalNs"] / _MS, 3),
        "selfMs": rounded(found["selfNs"] / _MS, 3),
        "errors": found["errors"],
    }


def _value(found: Mapping[str, Any]) -> dict[str, Any]:
    value = {
        "attribute": found["attribute"],
        "value": found["value"],
        "selectionShare": rounded(found["selection"]["share"], 4),
        "baselineShare": rounded(found["baseline"]["share"], 4),
        "selectionCount": found["selection"]["count"],
        "baselineCount": found["baseline"]["count"],
    }
    if not found["exact"]:
        value["exact"] = False
    return value


def _group_notes(found: Mapping[str, Any]) -> list[str]:
    cut, bounds = found["cut"], found["bounds"]
    notes = []
    if cut["values"]:
        notes.append(
            f"attributes with more than {bounds['valuesPerAttribute']} values, whose rarer "
            f"values are not counted (a count marked exact: false is not known and given as 0): "
            f"{', '.join(cut['values'][:20])}"
        )
    if cut["attributes"]:
        notes.append(f"only the first {bounds['attributes']} attributes were compared")
    if cut["ranked"]:
        notes.append(f"only the top {bounds['ranked']} values are ranked: raise `limit` for more")
    if found["sample"] is not None:
        sample = found["sample"]
        notes.append(
            f"more than {bounds['spans']} spans: values were counted on a sample of the "
            f"traces (rate {sample['rate']:.4g}); the shares are the sample's"
        )
    return notes

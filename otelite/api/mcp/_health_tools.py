"""Tools over what says a system is unwell or has changed: SLOs and their error budgets,
the alerts firing, and deploys with their RED figures before and after.

An SLO's status is computed from the stored data when asked (or is the evaluator's
latest finding), so ``slo_status`` asks for at most ``MAX_SLOS`` of them per call and
ranks the SLOs most in trouble first: an alert firing, then the least budget left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from otelite.api.mcp._answers import (
    Call,
    close_names,
    figures,
    known_service,
    path_segment,
    rounded,
)
from otelite.api.mcp._calls import QueryApi
from otelite.api.mcp._pages import page
from otelite.api.mcp._times import iso_ns
from otelite.api.mcp._trace_tools import READ_ONLY, ApiOf, CursorArg, End, MaxChars

__all__ = ["MAX_SLOS", "register_health_tools"]

MAX_SLOS = 50
"""The SLOs whose status one ``slo_status`` call computes (by name)."""
_AT_ONCE = 4
_MS = 1_000_000
_DAY_NS = 86400 * 10**9
_SEVERITIES = {"page": 0, "ticket": 1}


def register_health_tools(server: MCPServer, api_of: ApiOf) -> None:
    """Add the SLO, alert and deploy tools to ``server``."""

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def slo_status(
        ctx: Context,
        name: Annotated[str, Field(description="one SLO's name; default every SLO")] = "",
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """The service level objectives and how they stand now: for each objective its
        target, SLI (good events over all, over the SLO's window), error budget
        remaining (1 is untouched, below 0 spent), burn rates over 5m to the window (1
        spends the budget exactly over the window), and which burn-rate alerts fire or
        whose condition holds. SLOs in trouble come first.
        Example: {} for every SLO, {"name": "checkout-availability"} for one.
        """
        call = Call("slo_status", cursor, {"name": name or None, "max_chars": max_chars})
        wanted = call.args.get("name")
        async with api_of(ctx) as api:
            listed = [s["name"] for s in (await api.json("/api/slos"))["slos"]]
            if wanted is not None and wanted not in listed:
                raise ToolError(_unknown_slo(str(wanted), listed))
            names = [str(wanted)] if wanted is not None else sorted(listed)[:MAX_SLOS]
            # A status may be computed from the stored data: a few at a time.
            running = asyncio.Semaphore(_AT_ONCE)
            found = await asyncio.gather(*(_slo(api, n, running) for n in names))
        found.sort(key=_in_trouble_first)
        notes = []
        if wanted is None and len(listed) > MAX_SLOS:
            notes.append(
                f"the first {MAX_SLOS} of {len(listed)} SLOs by name; ask for others by `name`"
            )
        return page(
            {"slos": len(listed)},
            "status",
            found,
            budget=call.budget,
            cursor=call.cursor,
            notes=notes,
        )

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def firing_alerts(
        ctx: Context,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """The alerts firing now (SLO burn-rate alerts: page severity first), each with
        its labels (alertname, severity, slo, objective, service), annotations (summary,
        description), since when it fires and its burn rate. Resolved and never-fired
        alerts are not listed: slo_status shows every alert's condition.
        Example: {}.
        """
        call = Call("firing_alerts", cursor, {"max_chars": max_chars})
        async with api_of(ctx) as api:
            found = await api.json("/api/v1/alerts")
        alerts = [_alert(a) for a in found["data"]["alerts"]]
        alerts.sort(key=lambda a: (_SEVERITIES.get(a["severity"], 2), a["since"], a["name"]))
        return page({}, "alerts", alerts, budget=call.budget, cursor=call.cursor)

    @server.tool(annotations=READ_ONLY, structured_output=False)
    async def recent_deployments(
        ctx: Context,
        service: Annotated[str, Field(description="only this service's deploys")] = "",
        start: Annotated[
            str | None,
            Field(
                description="start of the range: now-6h, 6h (ago), RFC 3339 or Unix "
                "seconds; default: 24h before end (at most 7 days)"
            ),
        ] = None,
        end: End = None,
        max_chars: MaxChars = None,
        cursor: CursorArg = None,
    ) -> str:
        """Deploys in the range, newest first: when a service's version
        (service.version) changed, from which, whether it was a rollback, and the
        service's requests, error rate and p50/p95/p99 latency in the 15 minutes before
        and after. Use it to tell whether a problem started with a release.
        Example: {"service": "catalog", "start": "now-7d"}.
        """
        call = Call(
            "recent_deployments",
            cursor,
            {"service": service or None, "start": start, "end": end, "max_chars": max_chars},
        )
        when = call.period(_DAY_NS)
        wanted = call.args.get("service")
        async with api_of(ctx) as api:
            found = await api.json("/api/deployments", {**when.seconds, "service": wanted})
            if wanted and not found["versions"]:
                await known_service(api, str(wanted))
        deploys = [_deploy(d) for d in reversed(found["deployments"])]
        head: dict[str, Any] = {
            "service": wanted,
            "start": iso_ns(when.start_ns),
            "end": iso_ns(when.end_ns),
            "windowMinutes": found["windowMs"] / 60_000,
        }
        if wanted:
            head["versions"] = [
                {
                    "version": v["version"],
                    "firstSeen": iso_ns(v["firstSeenUnixMs"] * _MS),
                    "lastSeen": iso_ns(v["lastSeenUnixMs"] * _MS),
                }
                for v in found["versions"]
            ]
        notes = list(found["warnings"])
        if found["truncated"]:
            notes.append("the spans read were bounded: some versions or deploys may be missing")
        return page(
            head, "deployments", deploys, budget=call.budget, cursor=call.cursor, notes=notes
        )


def _unknown_slo(name: str, names: list[str]) -> str:
    close = close_names(name, names)
    if close:
        return f"name: no SLO named {name!r}; did you mean {', '.join(map(repr, close))}?"
    shown = ", ".join(repr(n) for n in sorted(names)[:30]) or "none yet"
    return f"name: no SLO named {name!r}; the SLOs are: {shown}"


async def _slo(api: QueryApi, name: str, running: asyncio.Semaphore) -> dict[str, Any]:
    async with running:
        found = await api.json(f"/api/slos/{path_segment(name)}/status")
    return {
        "name": found["name"],
        "service": found["service"],
        "window": found["window"],
        "at": iso_ns(found["timeUnixMs"] * _MS),
        "objectives": [_objective(o) for o in found["objectives"]],
    }


def _objective(found: Mapping[str, Any]) -> dict[str, Any]:
    alerts = found["alerts"]
    return {
        "name": found["name"],
        "target": found["target"],
        "sli": rounded(found["sli"], 4),
        "good": found["good"],
        "total": found["total"],
        "budgetRemaining": rounded(found["budgetRemaining"], 4),
        "burnRates": {w: rounded(r, 4) for w, r in found["burnRates"].items()},
        "firing": [
            {
                "alert": a["name"],
                "severity": a["severity"],
                "since": iso_ns(a["activeAtUnixMs"] * _MS),
            }
            for a in alerts
            if a["state"] == "firing"
        ],
        # Holding but not (yet) firing: the evaluator has not seen it, or it is new.
        "conditionHolds": [
            a["name"] for a in alerts if a["conditionHolds"] and a["state"] != "firing"
        ],
    }


def _in_trouble_first(slo: Mapping[str, Any]) -> tuple[int, float, str]:
    objectives = slo["objectives"]
    firing = sum(len(o["firing"]) for o in objectives)
    budgets = [o["budgetRemaining"] for o in objectives if o["budgetRemaining"] is not None]
    return (-firing, min(budgets, default=1.0), slo["name"])


def _alert(found: Mapping[str, Any]) -> dict[str, Any]:
    labels = dict(found["labels"])
    return {
        "name": labels.pop("alertname", None),
        "severity": labels.pop("severity", None),
        "state": found["state"],
        "since": found["activeAt"],
        "value": found["value"],
        "labels": labels,
        "annotations": found["annotations"],
    }


def _deploy(found: Mapping[str, Any]) -> dict[str, Any]:
    rollout = found["rolloutEndUnixMs"]
    return {
        "service": found["service"],
        "version": found["version"],
        "previous": found["previous"],
        "time": iso_ns(found["timeUnixMs"] * _MS),
        "rollback": found["rollback"],
        "rolloutEnd": None if rollout is None else iso_ns(rollout * _MS),
        "before": _red(found["before"]),
        "after": _red(found["after"]),
    }


def _red(found: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if found is None else figures(found)

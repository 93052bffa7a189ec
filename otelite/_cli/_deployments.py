"""``otelite deployments``: version changes per service, with RED before → after each."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from otelite._cli import _args
from otelite._cli._client import ApiClient, CliError, answer_items
from otelite._cli._output import Column, format_ms, format_time, print_table, write_raw_json

__all__ = ["register"]

_MS = 1_000_000


def register(commands: _args.Commands, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add the ``deployments`` command."""
    p = commands.add_parser(
        "deployments",
        parents=parents,
        help="list version changes per service, with RED before and after each",
    )
    p.add_argument("--service", help="only this service's deployments")
    p.add_argument(
        "--settle",
        type=_args.duration,
        metavar="DUR",
        help="how long other versions serve without a version before it counts as "
        "replaced (default: 5m)",
    )
    p.add_argument(
        "--window",
        type=_args.duration,
        metavar="DUR",
        help="how far before and after a deploy its RED reaches (default: 15m)",
    )
    _args.add_time_range(p, start="1h before the end", end="now")
    p.set_defaults(run=_deployments)


def _deployments(args: argparse.Namespace) -> int:
    params = {
        "service": args.service,
        "settle": args.settle,
        "window": args.window,
        "start": args.start,
        "end": args.end,
    }
    with ApiClient.from_args(args) as client:
        body = client.get_bytes("/api/deployments", params)
    if args.json:
        write_raw_json(body)
        return 0
    for warning in _warnings(body):
        print(f"otelite: warning: {warning}", file=sys.stderr)
    found = answer_items(body, "deployments")
    if not found:
        print("no deployments in the range", file=sys.stderr)
        return 0
    print_table(
        [
            Column("TIME"),
            Column("SERVICE"),
            Column("VERSION"),
            Column("PREVIOUS"),
            Column("REQ/S", right=True),
            Column("ERRORS", right=True),
            Column("P50", right=True),
            Column("P95", right=True),
        ],
        (_row(d) for d in found),
    )
    return 0


def _row(deploy: Mapping[str, Any]) -> list[str]:
    before, after = deploy.get("before") or {}, deploy.get("after") or {}
    version = str(deploy.get("version", ""))
    if deploy.get("rollback"):
        version += " (rollback)"
    return [
        format_time(int(deploy.get("timeUnixMs", 0)) * _MS),
        str(deploy.get("service", "")),
        version,
        ", ".join(deploy.get("previous") or ()) or "-",
        _change(before, after, "ratePerSecond", lambda v: f"{v:.3g}"),
        _change(before, after, "errorRate", lambda v: f"{100 * v:.3g}%"),
        _change(before, after, "p50Ms", format_ms),
        _change(before, after, "p95Ms", format_ms),
    ]


def _change(before: Mapping[str, Any], after: Mapping[str, Any], key: str, form: Any) -> str:
    """``before → after`` of one figure, ``-`` where a window had no requests."""
    parts = []
    for window in (before, after):
        value = window.get(key)
        parts.append("-" if value is None or not window.get("requestCount") else form(value))
    return " → ".join(parts)


def _warnings(body: bytes) -> list[str]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CliError("the server did not answer with JSON") from None
    warnings = document.get("warnings") if isinstance(document, dict) else None
    return [str(w) for w in warnings] if isinstance(warnings, list) else []

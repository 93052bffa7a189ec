"""``otelite slo``: list, show, apply and delete SLOs, and see their status.

``apply`` sends every file given as one request, so that documents applied together are
applied together or, when one is bad, none is (the server names the document and field).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from otelite._cli import _args
from otelite._cli._client import ApiClient, CliError, answer_items, path_segment
from otelite._cli._output import Column, format_time, print_table, write_raw_json

__all__ = ["register"]

_BURN_WINDOWS = ("5m", "1h", "6h", "3d")


def register(commands: _args.Commands, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``slo`` and its subcommands; ``parents`` carry the connection and ``--json``."""
    p = commands.add_parser(
        "slo",
        help="SLOs: list, status, apply, get, delete",
        description="Service level objectives as OpenSLO documents, their error budgets and "
        "burn-rate alerts (see README.md, section SLOs).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = actions.add_parser("list", parents=parents, help="list the SLOs")
    a.set_defaults(run=_list)
    a = actions.add_parser(
        "status", parents=parents, help="SLI, budget left, burn rates and alerts"
    )
    a.add_argument("name", nargs="?", help="one SLO (default: every one)")
    a.add_argument(
        "--time",
        type=_args.time_point,
        metavar="TIME",
        help="evaluate at this time (default: now)",
    )
    a.set_defaults(run=_status)
    a = actions.add_parser(
        "apply", parents=parents, help="add or replace SLOs from OpenSLO files (YAML or JSON)"
    )
    a.add_argument("files", nargs="+", type=Path, metavar="FILE", help="'-' reads stdin")
    a.set_defaults(run=_apply)
    a = actions.add_parser("get", parents=parents, help="print one SLO's document")
    a.add_argument("name")
    a.set_defaults(run=_get)
    a = actions.add_parser("delete", parents=parents, help="delete one SLO")
    a.add_argument("name")
    a.set_defaults(run=_delete)


def _list(args: argparse.Namespace) -> int:
    with ApiClient.from_args(args) as client:
        body = client.get_bytes("/api/slos")
    if args.json:
        write_raw_json(body)
        return 0
    slos = answer_items(body, "slos")
    if not slos:
        print("no SLOs", file=sys.stderr)
        return 0
    rows = [
        [
            str(slo.get("name")),
            str(slo.get("service") or "-"),
            str(slo.get("window")),
            ", ".join(f"{o.get('name')}: {_percent(o.get('target'))}" for o in _objectives(slo)),
        ]
        for slo in slos
    ]
    print_table([Column("NAME"), Column("SERVICE"), Column("WINDOW"), Column("OBJECTIVES")], rows)
    return 0


def _objectives(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = item.get("objectives")
    return [o for o in found if isinstance(o, Mapping)] if isinstance(found, list) else []


def _status(args: argparse.Namespace) -> int:
    params = {} if args.time is None else {"time": str(args.time)}
    with ApiClient.from_args(args) as client:
        if args.name is None:
            names = [
                str(s.get("name")) for s in answer_items(client.get_bytes("/api/slos"), "slos")
            ]
        else:
            names = [args.name]
        bodies = [
            client.get_bytes(f"/api/slos/{path_segment(name)}/status", params) for name in names
        ]
    if args.json:
        write_raw_json(b"[" + b",".join(bodies) + b"]" if args.name is None else bodies[0])
        return 0
    if not bodies:
        print("no SLOs", file=sys.stderr)
        return 0
    rows = []
    for body in bodies:
        status = _json(body)
        for objective in _objectives(status):
            burn = objective.get("burnRates") or {}
            firing = [
                str(alert.get("name"))
                for alert in objective.get("alerts") or []
                if isinstance(alert, Mapping) and alert.get("state") == "firing"
            ]
            rows.append(
                [
                    str(status.get("name")),
                    str(objective.get("name")),
                    _percent(objective.get("target")),
                    _percent(objective.get("sli"), digits=3),
                    _percent(objective.get("budgetRemaining"), digits=1),
                    *(_rate(burn.get(window)) for window in _BURN_WINDOWS),
                    ", ".join(firing) or "-",
                ]
            )
    columns = [
        Column("SLO"),
        Column("OBJECTIVE"),
        Column("TARGET", right=True),
        Column("SLI", right=True),
        Column("BUDGET LEFT", right=True),
        *(Column(f"BURN {w}", right=True) for w in _BURN_WINDOWS),
        Column("FIRING"),
    ]
    print_table(columns, rows)
    if args.time is not None:
        print(f"at {format_time(args.time)}", file=sys.stderr)
    return 0


def _apply(args: argparse.Namespace) -> int:
    parts = []
    for path in args.files:
        try:
            parts.append(sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes())
        except OSError as error:
            raise CliError(f"cannot read {path}: {error.strerror or error}") from None
    # YAML documents apart by ---; a JSON document is YAML too.
    content = b"\n---\n".join(part.strip() for part in parts if part.strip())
    with ApiClient.from_args(args) as client:
        body = client.send_bytes(
            "POST", "/api/slos", content, headers={"content-type": "application/yaml"}
        )
    if args.json:
        write_raw_json(body)
        return 0
    for item in answer_items(body, "applied"):
        print(f"{item.get('name')}: {'created' if item.get('created') else 'replaced'}")
    return 0


def _get(args: argparse.Namespace) -> int:
    with ApiClient.from_args(args) as client:
        body = client.get_bytes(f"/api/slos/{path_segment(args.name)}")
    if args.json:
        write_raw_json(body)
        return 0
    # Imported here: only this command prints YAML.
    import yaml

    print(yaml.safe_dump(_json(body), sort_keys=False, allow_unicode=True), end="")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with ApiClient.from_args(args) as client:
        body = client.send_bytes("DELETE", f"/api/slos/{path_segment(args.name)}")
    if args.json:
        write_raw_json(body)
    else:
        print(f"{args.name}: deleted")
    return 0


def _json(body: bytes) -> Mapping[str, Any]:
    try:
        found = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CliError("the server did not answer with JSON") from None
    if not isinstance(found, Mapping):
        raise CliError("unexpected answer from the server")
    return found


def _percent(value: Any, digits: int = 2) -> str:
    if not isinstance(value, int | float):
        return "-"
    return f"{value * 100:.{digits}f}%"


def _rate(value: Any) -> str:
    return f"{value:.2f}x" if isinstance(value, int | float) else "-"

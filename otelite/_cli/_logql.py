"""``otelite logql 'EXPR'``: a LogQL query over the Loki API.

A log query prints the lines of ``--start``..``--end`` (default: the hour before now)
that it selects, newest first unless ``--direction forward``, at most ``--limit`` of
them; each with its time, its stream's labels and the labels its pipeline parsed. A
metric query (``sum by (level) (count_over_time({...}[1m]))``) prints each series'
value at every ``--step`` of the range (default: Loki's, about 250 steps), or once at
``--end`` with ``--instant``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from otelite._cli import _args
from otelite._cli._client import ApiClient, CliError
from otelite._cli._output import (
    Column,
    format_time,
    print_samples,
    print_table,
    write_raw_json,
)

__all__ = ["register"]

_DEFAULT_RANGE_NS = 3600 * 10**9
_CATEGORIZE = {"X-Loki-Response-Encoding-Flags": "categorize-labels"}


def register(commands: _args.Commands, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``logql``; ``parents`` carry the connection and ``--json`` options."""
    p = commands.add_parser(
        "logql",
        parents=parents,
        help="run a LogQL query over the stored logs",
        description="Run a LogQL log query such as "
        '\'{service_name="checkout"} |= "error" | json | duration > 250ms\' and print '
        "the lines it selects, newest first; or a metric query such as "
        "'sum by (detected_level) (count_over_time({service_name=\"checkout\"}[1m]))' and "
        "print its series.",
    )
    p.add_argument("expr", metavar="EXPR", help="the LogQL query")
    _args.add_time_range(p, start="1h before the end", end="now")
    p.add_argument(
        "--limit",
        type=_args.positive_int,
        default=100,
        metavar="N",
        help="at most N lines (default: %(default)s, at most 5000)",
    )
    p.add_argument(
        "--direction",
        choices=("backward", "forward"),
        default="backward",
        help="newest first (backward, the default) or oldest first",
    )
    p.add_argument(
        "--step",
        metavar="STEP",
        help="a metric query's resolution: seconds or a duration, e.g. 1m",
    )
    p.add_argument(
        "--instant",
        action="store_true",
        help="evaluate a metric query once, at --end (Loki's instant query)",
    )
    p.set_defaults(run=_logql)


def _logql(args: argparse.Namespace) -> int:
    end = args.end if args.end is not None else time.time_ns()
    start = args.start if args.start is not None else end - _DEFAULT_RANGE_NS
    params = {
        "query": args.expr,
        "start": str(start),
        "end": str(end),
        "limit": str(args.limit),
        "direction": args.direction,
    }
    if args.step is not None:
        params["step"] = args.step
    path = "/loki/api/v1/query_range"
    if args.instant:
        path = "/loki/api/v1/query"
        params = {"query": args.expr, "time": str(end), "limit": str(args.limit)}
    with ApiClient.from_args(args) as client:
        body = client.get_bytes(path, params, headers=_CATEGORIZE)
    if args.json:
        write_raw_json(body)
        return 0
    return _print(body, forward=args.direction == "forward")


def _print(body: bytes, *, forward: bool) -> int:
    try:
        data = orjson.loads(body)["data"]
        kind, result = data["resultType"], data["result"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise CliError("the server's answer is not a Loki query result") from None
    if kind != "streams":
        print_samples(kind, result)
        return 0
    rows = []
    for stream in result:
        labels = _labels(stream.get("stream", {}))
        for value in stream.get("values", []):
            extra = value[2] if len(value) > 2 and isinstance(value[2], Mapping) else {}
            parsed = _labels(extra.get("parsed", {})) if extra.get("parsed") else ""
            rows.append((int(value[0]), labels, parsed, str(value[1])))
    if not rows:
        print("no log lines", file=sys.stderr)
        return 0
    rows.sort(key=lambda row: row[0], reverse=not forward)
    shown = [[format_time(at), labels, parsed, line] for at, labels, parsed, line in rows]
    print_table([Column("TIME"), Column("STREAM"), Column("PARSED"), Column("LINE")], shown)
    return 0


def _labels(labels: Any) -> str:
    if not isinstance(labels, Mapping):
        return "{}"
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"

"""``otelite promql 'EXPR'``: a PromQL query over the Prometheus API.

Without ``--step`` the expression is evaluated once, at ``--end`` (default now), as
``/api/v1/query`` does; with ``--step`` over ``--start``..``--end`` as ``query_range``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import orjson

from otelite._cli import _args
from otelite._cli._client import ApiClient, CliError
from otelite._cli._output import print_samples, write_raw_json

__all__ = ["register"]

_DEFAULT_RANGE_S = 3600


def register(commands: _args.Commands, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``promql``; ``parents`` carry the connection and ``--json`` options."""
    p = commands.add_parser(
        "promql",
        parents=parents,
        help="run a PromQL query over the stored metrics",
        description="Run a PromQL expression such as "
        "'sum by (job) (rate(http_server_request_duration_seconds_count[5m]))': once at "
        "--end (default now), or at every --step from --start to --end.",
    )
    p.add_argument("expr", metavar="EXPR", help="the PromQL expression")
    _args.add_time_range(p, start="1h before the end", end="now")
    p.add_argument(
        "--step", metavar="STEP", help="a range query: seconds or a duration per point, e.g. 1m"
    )
    p.set_defaults(run=_promql)


def _seconds(ns: int) -> str:
    return f"{ns / 1e9:.3f}"


def _promql(args: argparse.Namespace) -> int:
    end = args.end if args.end is not None else time.time_ns()
    with ApiClient.from_args(args) as client:
        if args.step is None:
            params = {"query": args.expr, "time": _seconds(end)}
            body = client.get_bytes("/api/v1/query", params)
        else:
            start = args.start if args.start is not None else end - _DEFAULT_RANGE_S * 10**9
            params = {
                "query": args.expr,
                "start": _seconds(start),
                "end": _seconds(end),
                "step": args.step,
            }
            body = client.get_bytes("/api/v1/query_range", params)
    if args.json:
        write_raw_json(body)
        return 0
    return _print(body)


def _print(body: bytes) -> int:
    try:
        data = orjson.loads(body)["data"]
        kind, result = data["resultType"], data["result"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        raise CliError("the server's answer is not a Prometheus query result") from None
    print_samples(kind, result)
    return 0

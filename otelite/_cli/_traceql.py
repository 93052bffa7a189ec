"""``otelite query 'TRACEQL'``: a TraceQL search or metrics query, over the Tempo API.

The server decides what the query is: a search is answered by ``/api/search``; a
metrics query (``{ } | rate() by (...)``), which search refuses, is asked of
``/api/metrics/query_range``. Parse errors come back with their position and an excerpt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from otelite._cli import _args
from otelite._cli._client import ApiClient, CliError, Params, answer_items
from otelite._cli._output import (
    Column,
    format_count,
    format_ms,
    format_time,
    print_table,
    write_raw_json,
)

__all__ = ["register"]

_METRICS_HINT = "a metrics query cannot search traces"


def register(commands: _args.Commands, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``query``; ``parents`` carry the connection and ``--json`` options."""
    p = commands.add_parser(
        "query",
        parents=parents,
        help="run a TraceQL search or metrics query",
        description="Run a TraceQL query: a search such as "
        "'{ resource.service.name = \"cart\" && status = error }' lists the traces it "
        "matches; a metrics query such as '{ } | rate() by (resource.service.name)' "
        "prints its series.",
    )
    p.add_argument("traceql", metavar="TRACEQL", help="the query")
    _args.add_time_range(p, start="1h before the end", end="now")
    p.add_argument(
        "--limit", type=_args.positive_int, metavar="N", help="at most N traces (default 20)"
    )
    p.add_argument(
        "--step", metavar="STEP", help="metrics: seconds or a duration per point, e.g. 1m"
    )
    p.set_defaults(run=_query)


def _query(args: argparse.Namespace) -> int:
    window: Params = {"q": args.traceql, "start": args.start, "end": args.end}
    with ApiClient.from_args(args) as client:
        try:
            body = client.get_bytes("/api/search", {**window, "limit": args.limit})
        except CliError as error:
            if _METRICS_HINT not in str(error):
                raise
            body = client.get_bytes("/api/metrics/query_range", {**window, "step": args.step})
            return _print_series(args, body)
    return _print_traces(args, body)


def _print_traces(args: argparse.Namespace, body: bytes) -> int:
    if args.json:
        write_raw_json(body)
        return 0
    traces = answer_items(body, "traces")
    if not traces:
        print("no traces match", file=sys.stderr)
        return 0
    print_table(
        [
            Column("TRACE ID"),
            Column("START"),
            Column("DURATION", right=True),
            Column("MATCHED", right=True),
            Column("ROOT SERVICE"),
            Column("ROOT SPAN"),
        ],
        (
            [
                str(t.get("traceID", "")).rjust(32, "0"),
                format_time(t.get("startTimeUnixNano")),
                format_ms(t.get("durationMs", 0)),
                format_count(_matched(t)),
                str(t.get("rootServiceName") or "-"),
                str(t.get("rootTraceName") or "-"),
            ]
            for t in traces
        ),
    )
    return 0


def _matched(trace: Mapping[str, Any]) -> int:
    sets = trace.get("spanSets")
    if not isinstance(sets, list):
        return 0
    return sum(int(s.get("matched", 0)) for s in sets if isinstance(s, Mapping))


def _print_series(args: argparse.Namespace, body: bytes) -> int:
    if args.json:
        write_raw_json(body)
        return 0
    series = answer_items(body, "series")
    if not series:
        print("no data points", file=sys.stderr)
        return 0
    print_table(
        [Column("SERIES"), Column("TIME"), Column("VALUE", right=True)],
        (
            [
                _labels(s.get("labels")),
                format_time(int(p["timestampMs"]) * 1_000_000),
                f"{p['value']:.6g}",
            ]
            for s in series
            for p in s.get("samples", ())
            if isinstance(p, Mapping)
        ),
    )
    return 0


def _labels(labels: Any) -> str:
    if not isinstance(labels, list):
        return "{}"
    parts = []
    for label in labels:
        value = label.get("value", {}) if isinstance(label, Mapping) else {}
        shown = next(iter(value.values()), "") if isinstance(value, Mapping) else ""
        parts.append(f"{label.get('key')}={shown}")
    return "{" + ", ".join(parts) + "}"

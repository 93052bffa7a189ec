"""``otelite critical-path``: what a trace's duration waits on, or many traces' durations.

With a trace id, the spans on that trace's critical path, most time first
(``/api/traces/{id}/critical-path``). With ``--query``, the critical-path time of the
traces a TraceQL search matches, per operation, against a baseline
(``/api/critical-path``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from otelite._cli import _args
from otelite._cli._client import ApiClient, CliError, Params, path_segment
from otelite._cli._output import Column, format_nanos, print_table, write_raw_json

__all__ = ["register"]


def register(commands: _args.Commands, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``critical-path``; ``parents`` carry the connection and ``--json`` options."""
    p = commands.add_parser(
        "critical-path",
        parents=parents,
        help="what a trace's duration waits on, or that of the traces a query matches",
        description="With TRACE_ID: the spans on the trace's critical path, with their "
        "share of its duration. With --query: the critical-path time of the traces a "
        "TraceQL search matches, per service and operation, against a baseline (by "
        "default the other traces of the range).",
    )
    p.add_argument(
        "trace_id", nargs="?", type=_args.trace_id, metavar="TRACE_ID", help="trace id in hex"
    )
    p.add_argument("--query", metavar="TRACEQL", help="the traces to add up, e.g. '{ }'")
    p.add_argument(
        "--baseline",
        metavar="TRACEQL",
        help="the traces to compare with (default: --query over the baseline range when "
        "one is given, else the other traces of the range)",
    )
    _args.add_time_range(p, start="1h before the end", end="now")
    p.add_argument(
        "--baseline-start", type=_args.time_point, metavar="TIME", help="the baseline's start"
    )
    p.add_argument(
        "--baseline-end", type=_args.time_point, metavar="TIME", help="the baseline's end"
    )
    p.add_argument(
        "--limit",
        type=_args.positive_int,
        metavar="N",
        help="at most N traces on each side (default 100, at most 1000)",
    )
    p.add_argument(
        "--top", type=_args.positive_int, default=20, metavar="N", help="rows to show (20)"
    )
    p.set_defaults(run=_critical_path)


def _critical_path(args: argparse.Namespace) -> int:
    if (args.trace_id is None) == (args.query is None):
        raise CliError("critical-path: give either a TRACE_ID or --query, not both")
    with ApiClient.from_args(args) as client:
        if args.trace_id is not None:
            body = client.get_bytes(f"/api/traces/{path_segment(args.trace_id)}/critical-path")
        else:
            params: Params = {
                "q": args.query,
                "baseline": args.baseline,
                "start": args.start,
                "end": args.end,
                "baselineStart": args.baseline_start,
                "baselineEnd": args.baseline_end,
                "limit": args.limit,
            }
            body = client.get_bytes("/api/critical-path", params)
    if args.json:
        write_raw_json(body)
        return 0
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CliError("the server did not answer with JSON") from None
    if not isinstance(answer, Mapping):
        raise CliError("unexpected answer from the server: not an object")
    if args.trace_id is not None:
        _print_trace(answer, args.top)
    else:
        _print_totals(answer, args.top)
    return 0


def _print_trace(answer: Mapping[str, Any], top: int) -> None:
    spans = answer.get("spans") or []
    summary = [
        f"trace {answer.get('traceId')}",
        f"critical path {format_nanos(int(answer.get('durationNs') or 0))}",
        f"{len(spans)} of {answer.get('spanCount')} spans on it",
    ]
    if answer.get("gapNs"):
        summary.append(f"{format_nanos(int(answer['gapNs']))} between top-level spans")
    print(" · ".join(summary))
    columns = [Column("SPAN"), Column("SERVICE"), Column("ON PATH", right=True)]
    print_table(
        [*columns, Column("SHARE", right=True)],
        (
            [s["name"], s["service"], format_nanos(int(s["selfNs"])), _percent(s["share"])]
            for s in spans[:top]
        ),
    )
    _more(len(spans), top, "spans")


def _print_totals(answer: Mapping[str, Any], top: int) -> None:
    for side in ("selection", "baseline"):
        group = answer.get(side) or {}
        notes = [
            note
            for note, flag in (("newest traces only", "sampled"), ("spans cut", "cut"))
            if group.get(flag)
        ]
        others = " (the other traces)" if group.get("others") else ""
        print(
            f"{side}: {group.get('query')}{others}: {group.get('traces')} traces, "
            f"mean critical path {_nanos(group.get('meanPathNs'))}"
            + (f" ({', '.join(notes)})" if notes else "")
        )
    operations = answer.get("operations") or []
    print_table(
        [
            Column("SERVICE"),
            Column("OPERATION"),
            Column("ON PATH", right=True),
            Column("SHARE", right=True),
            Column("BASELINE", right=True),
            Column("CHANGE", right=True),
        ],
        (
            [
                str(o["service"]),
                str(o["name"]),
                format_nanos(int(o["pathNs"])),
                _percent(o["share"]),
                _percent(o["baselineShare"]),
                _points(o["difference"]),
            ]
            for o in operations[:top]
        ),
    )
    _more(int(answer.get("operationCount") or len(operations)), top, "operations")


def _nanos(value: Any) -> str:
    return "-" if value is None else format_nanos(int(value))


def _percent(share: Any) -> str:
    return f"{float(share) * 100:.1f}%"


def _points(difference: Any) -> str:
    """A difference of shares, in percentage points, signed."""
    return f"{float(difference) * 100:+.1f}pp"


def _more(count: int, top: int, noun: str) -> None:
    if count > top:
        print(f"{count - top} more {noun} (--top)", file=sys.stderr)

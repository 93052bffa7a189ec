"""``otelite compare``: two traces aligned by structure, or two groups of spans.

``otelite compare A B`` asks ``/api/compare/traces`` and prints trace b's tree of
(service, operation) paths against trace a's: each node's spans and time in both, and
whether it was added, is missing, or got slower or faster. ``otelite compare --selection
'{ status = error }'`` asks ``/api/compare`` and prints the attribute values whose share
differs most between the selection and the baseline (by default every other span).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from otelite._cli import _args
from otelite._cli._client import ApiClient, CliError, answer_items
from otelite._cli._output import Column, format_nanos, print_table, write_raw_json

__all__ = ["register"]


def register(commands: _args.Commands, parents: Sequence[argparse.ArgumentParser]) -> None:
    """Add ``compare``; ``parents`` carry the connection and ``--json`` options."""
    p = commands.add_parser(
        "compare",
        parents=parents,
        help="compare two traces, or two groups of spans",
        description="Compare two traces (give their ids): their spans aligned by service "
        "and operation path, with what was added, is missing, got slower or faster. Or "
        "compare two groups of spans (give --selection, and --baseline or not): the "
        "attribute values whose share differs most between them.",
    )
    p.add_argument("traces", nargs="*", type=_args.trace_id, metavar="TRACE_ID", help="a and b")
    p.add_argument(
        "--selection",
        metavar="TRACEQL",
        help="the group: a span set query, e.g. '{ status = error }'",
    )
    p.add_argument(
        "--baseline", metavar="TRACEQL", help="the group to compare with (default: the rest)"
    )
    _args.add_time_range(p, start="1h before the end", end="now")
    p.add_argument(
        "--selection-start",
        type=_args.time_point,
        metavar="TIME",
        help="only the selection's spans that start after TIME (with --selection-end: "
        "after against before a time, with the default baseline)",
    )
    p.add_argument(
        "--selection-end", type=_args.time_point, metavar="TIME", help="... and until TIME"
    )
    p.add_argument(
        "--limit", type=_args.positive_int, metavar="N", help="at most N values (default 50)"
    )
    p.set_defaults(run=_compare)


def _compare(args: argparse.Namespace) -> int:
    if args.selection is None:
        if len(args.traces) != 2:
            raise CliError("give two trace ids, or a group of spans with --selection")
        grouping = (args.baseline, args.start, args.end, args.selection_start, args.selection_end)
        if any(option is not None for option in grouping):
            raise CliError(
                "--baseline, --start, --end and --selection-start, --selection-end"
                " compare groups: give --selection"
            )
        with ApiClient.from_args(args) as client:
            a, b = args.traces
            body = client.get_bytes("/api/compare/traces", {"a": a, "b": b})
        if args.json:
            write_raw_json(body)
            return 0
        return _print_traces(_document(body))
    if args.traces:
        raise CliError("give either two trace ids or --selection, not both")
    params = {
        "selection": args.selection,
        "baseline": args.baseline,
        "start": args.start,
        "end": args.end,
        "selectionStart": args.selection_start,
        "selectionEnd": args.selection_end,
        "limit": args.limit,
    }
    with ApiClient.from_args(args) as client:
        body = client.get_bytes("/api/compare", params)
    if args.json:
        write_raw_json(body)
        return 0
    return _print_groups(body)


def _document(body: bytes) -> Mapping[str, Any]:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CliError("the server did not answer with JSON") from None
    if not isinstance(document, Mapping):
        raise CliError("unexpected answer from the server: not an object")
    return document


def _print_traces(document: Mapping[str, Any]) -> int:
    sides = []
    for name in ("a", "b"):
        side = document.get(name) or {}
        cut = " (cut)" if side.get("truncated") else ""
        sides.append(
            f"{name} {side.get('traceId', '?')} · {_count(side.get('spans'))}{cut}"
            f" · {format_nanos(int(side.get('durationNs', 0)))}"
        )
    print("   ".join(sides))
    summary = document.get("summary") or {}
    print(" · ".join(f"{count} {change}" for change, count in summary.items()))
    rows = []
    nodes = document.get("nodes")
    for node in nodes if isinstance(nodes, list) else []:
        rows.append(
            [
                "  " * int(node.get("depth", 0)) + str(node.get("operation", "")),
                str(node.get("service") or "-"),
                _spans(node.get("a")),
                _spans(node.get("b")),
                _change(node),
            ]
        )
    print_table(
        [
            Column("OPERATION"),
            Column("SERVICE"),
            Column("A", right=True),
            Column("B", right=True),
            Column("CHANGE"),
        ],
        rows,
    )
    return 0


def _spans(stats: Any) -> str:
    if not isinstance(stats, Mapping):
        return "-"
    count, total = int(stats.get("count", 0)), format_nanos(int(stats.get("totalNs", 0)))
    return total if count == 1 else f"{total} ({count} spans)"


def _change(node: Mapping[str, Any]) -> str:
    change = str(node.get("change", ""))
    if change in ("slower", "faster"):
        delta = int(node.get("deltaNs", 0))
        change += f" {'+' if delta > 0 else '-'}{format_nanos(abs(delta))}"
    extra = [f"+{n} added" for n in [node.get("added")] if n and change != "added"]
    extra += [f"{n} missing" for n in [node.get("missing")] if n and change != "missing"]
    return ", ".join([change, *extra])


def _print_groups(body: bytes) -> int:
    document = _document(body)
    selection, baseline = document.get("selection") or {}, document.get("baseline") or {}
    print(
        f"selection {selection.get('query')}: {_count(selection.get('spans'))} · baseline "
        f"{baseline.get('query') or '(every other span)'}: {_count(baseline.get('spans'))}"
    )
    values = answer_items(body, "values")
    if not values:
        print("no spans to compare", file=sys.stderr)
        return 0
    print_table(
        [
            Column("ATTRIBUTE"),
            Column("VALUE"),
            Column("SELECTION", right=True),
            Column("BASELINE", right=True),
            Column("DIFFERENCE", right=True),
        ],
        (
            [
                str(v.get("attribute", "")),
                _value(v.get("value")),
                _share(v.get("selection")),
                _share(v.get("baseline")) + ("" if v.get("exact", True) else "?"),
                f"{100 * float(v.get('score', 0)):+.1f}%",
            ]
            for v in values
        ),
    )
    sample = document.get("sample")
    if isinstance(sample, Mapping):
        print(
            f"counted on a sample of {100 * float(sample.get('rate', 0)):.3g}% of the traces",
            file=sys.stderr,
        )
    cut = document.get("cut") or {}
    if cut.get("values"):
        rare = ", ".join(cut["values"])
        print(f"only the most frequent values were counted for: {rare}", file=sys.stderr)
    if cut.get("attributes"):
        print("attributes fewest spans have were left out", file=sys.stderr)
    if cut.get("ranked"):
        print("more values differ: raise --limit to see them", file=sys.stderr)
    return 0


def _count(spans: Any) -> str:
    n = int(spans or 0)
    return "1 span" if n == 1 else f"{n} spans"


def _share(side: Any) -> str:
    if not isinstance(side, Mapping):
        return "-"
    return f"{100 * float(side.get('share', 0)):.1f}% ({side.get('count', 0)})"


def _value(value: Any) -> str:
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()

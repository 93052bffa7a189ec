"""``otelite trace ID``: one trace as a tree of spans, children indented under their parent."""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from otelite._cli import _args
from otelite._cli._client import ApiClient, CliError, path_segment
from otelite._cli._output import Column, format_nanos, print_table, write_raw_json

__all__ = ["Span", "register", "spans_of", "tree_rows"]

_STATUS_NAMES = {0: "unset", 1: "ok", 2: "error"}


@dataclass(slots=True)
class Span:
    """What the tree shows of one span."""

    span_id: str
    parent_id: str
    name: str
    service: str
    start: int
    end: int
    status: str
    children: list[Span] = field(default_factory=list)


def register(
    commands: _args.Commands,
    parents: Sequence[argparse.ArgumentParser],
) -> None:
    """Add the ``trace`` command."""
    p = commands.add_parser("trace", parents=parents, help="show one trace as a span tree")
    p.add_argument("trace_id", type=_args.trace_id, metavar="TRACE_ID", help="trace id in hex")
    p.set_defaults(run=_trace)


def _trace(args: argparse.Namespace) -> int:
    with ApiClient.from_args(args) as client:
        body = client.get_bytes(f"/api/traces/{path_segment(args.trace_id)}")
    if args.json:
        write_raw_json(body)
        return 0
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CliError("the server did not answer with JSON") from None
    spans = spans_of(document)
    if not spans:
        raise CliError(f"trace {args.trace_id} has no spans")
    first = min((s.start for s in spans if s.start > 0), default=0)
    last = max(s.end for s in spans)
    services = {s.service for s in spans}
    errors = sum(1 for s in spans if s.status.startswith("error"))
    summary = [
        f"trace {args.trace_id}",
        _plural(len(spans), "span"),
        _plural(len(services), "service"),
        _duration(first, last),
    ]
    if errors:
        summary.append(_plural(errors, "error"))
    print(" · ".join(summary))
    print_table(
        [
            Column("SPAN"),
            Column("SERVICE"),
            Column("START", right=True),
            Column("DURATION", right=True),
            Column("STATUS"),
        ],
        tree_rows(spans, first),
    )
    return 0


def spans_of(document: Any) -> list[Span]:
    """The spans of a trace in OTLP/JSON, under ``resourceSpans`` or Tempo's ``batches``."""
    if isinstance(document, Mapping) and isinstance(document.get("trace"), Mapping):
        document = document["trace"]
    if not isinstance(document, Mapping):
        raise CliError("unexpected answer from the server: not a trace object")
    spans: list[Span] = []
    for resource_spans in _list(document.get("resourceSpans") or document.get("batches")):
        resource = resource_spans.get("resource") or {}
        service = _service_name(
            resource.get("attributes") if isinstance(resource, Mapping) else None
        )
        scopes = resource_spans.get("scopeSpans") or resource_spans.get(
            "instrumentationLibrarySpans"
        )
        for scope_spans in _list(scopes):
            for span in _list(scope_spans.get("spans")):
                spans.append(
                    Span(
                        span_id=str(span.get("spanId") or ""),
                        parent_id=str(span.get("parentSpanId") or ""),
                        name=str(span.get("name") or ""),
                        service=service,
                        start=_nanos(span.get("startTimeUnixNano")),
                        end=_nanos(span.get("endTimeUnixNano")),
                        status=_status(span.get("status")),
                    )
                )
    return spans


def tree_rows(spans: Sequence[Span], trace_start: int) -> Iterator[list[str]]:
    """Table rows in depth-first order, each span name prefixed by tree branches.

    A span whose parent is not in the trace is shown as a root, so nothing is hidden.
    """
    by_id = {s.span_id: s for s in spans if s.span_id}
    roots: list[Span] = []
    for span in spans:
        span.children.clear()
    for span in spans:
        parent = by_id.get(span.parent_id) if span.parent_id else None
        if parent is None or parent is span:
            roots.append(span)
        else:
            parent.children.append(span)
    # Iterative walk: a deep or cyclic parent chain must not blow the stack or loop.
    seen: set[int] = set()
    stack: list[tuple[Span, str, str]] = [(r, "", "") for r in _by_start(roots)[::-1]]
    while stack:
        span, branch, indent = stack.pop()
        if id(span) in seen:
            continue
        seen.add(id(span))
        yield [
            f"{branch}{span.name}",
            span.service,
            _offset(span.start, trace_start),
            _duration(span.start, span.end),
            span.status,
        ]
        children = _by_start(span.children)
        for i, child in reversed(list(enumerate(children))):
            last = i == len(children) - 1
            stack.append(
                (child, indent + ("└─ " if last else "├─ "), indent + ("   " if last else "│  "))
            )
    # Spans only reachable through a cycle have no root; show them rather than drop them.
    for span in spans:
        if id(span) not in seen:
            seen.add(id(span))
            yield [span.name, span.service, "-", _duration(span.start, span.end), span.status]


def _offset(start: int, trace_start: int) -> str:
    if start <= 0 or trace_start <= 0:
        return "-"
    return "+0" if start == trace_start else "+" + format_nanos(start - trace_start)


def _by_start(spans: list[Span]) -> list[Span]:
    return sorted(spans, key=lambda s: (s.start, s.name))


def _duration(start: int, end: int) -> str:
    # Zero or reversed timestamps happen; never show a wrapped or negative duration.
    if start <= 0 or end < start:
        return "-"
    return format_nanos(end - start)


def _status(status: Any) -> str:
    if not isinstance(status, Mapping):
        return "unset"
    code = status.get("code", 0)
    if isinstance(code, str):
        name = code.removeprefix("STATUS_CODE_").lower()
    else:
        name = _STATUS_NAMES.get(code, str(code))
    message = status.get("message")
    return f"{name}: {message}" if message else name


def _service_name(attributes: Any) -> str:
    for kv in _list(attributes):
        if kv.get("key") == "service.name":
            value = kv.get("value")
            if isinstance(value, Mapping) and "stringValue" in value:
                return str(value["stringValue"])
    return "-"


def _nanos(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"

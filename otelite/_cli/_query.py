"""Listing commands over the query API: services, operations, map, traces, logs, metrics,
series."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from otelite._cli import _args
from otelite._cli._client import ApiClient, Params, answer_items, path_segment
from otelite._cli._output import (
    Column,
    format_any_value,
    format_attributes,
    format_count,
    format_ms,
    format_time,
    print_table,
    write_raw_json,
)

__all__ = ["register"]


_SPAN_KINDS = {
    0: "unspecified",
    1: "internal",
    2: "server",
    3: "client",
    4: "producer",
    5: "consumer",
}
_SEVERITIES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def register(
    commands: _args.Commands,
    parents: Sequence[argparse.ArgumentParser],
) -> None:
    """Add the listing commands; ``parents`` carry the connection and ``--json`` options."""
    p = commands.add_parser("services", parents=parents, help="list services with span counts")
    _add_range(p)
    p.set_defaults(run=_services)

    p = commands.add_parser(
        "operations", parents=parents, help="list one service's operations with latencies"
    )
    p.add_argument("service", help="service name")
    _add_range(p)
    p.set_defaults(run=_operations)

    p = commands.add_parser(
        "map", parents=parents, help="list the calls between services (the service map)"
    )
    p.add_argument("--service", help="only the calls to and from this service")
    _add_range(p)
    p.set_defaults(run=_map)

    p = commands.add_parser("traces", parents=parents, help="search traces")
    p.add_argument("--service", help="a span of the trace comes from this service")
    p.add_argument("--name", help="a span of the trace has this name")
    _add_attr(p, "a span has this attribute")
    p.add_argument("--min-duration", type=_args.duration, metavar="DUR", help="e.g. 100ms")
    p.add_argument("--max-duration", type=_args.duration, metavar="DUR", help="e.g. 2s")
    p.add_argument("--status", choices=("error", "ok", "unset"), help="a span has this status")
    _add_range(p)
    _add_limit(p)
    p.set_defaults(run=_traces)

    p = commands.add_parser("logs", parents=parents, help="search log records")
    p.add_argument("--service", help="emitted by this service")
    p.add_argument(
        "--severity",
        metavar="LEVEL",
        help=f"at least this severity ({', '.join(s.lower() for s in _SEVERITIES)})",
    )
    p.add_argument("--text", help="the body contains this text")
    p.add_argument("--trace-id", type=_args.trace_id, metavar="ID", help="in this trace")
    _add_attr(p, "the record has this attribute")
    _add_range(p)
    _add_limit(p)
    p.set_defaults(run=_logs)

    p = commands.add_parser("metrics", parents=parents, help="list metric names")
    p.add_argument("--service", help="emitted by this service")
    _add_range(p)
    p.set_defaults(run=_metrics)

    p = commands.add_parser("series", parents=parents, help="show the data points of a metric")
    p.add_argument("name", help="metric name")
    p.add_argument("--service", help="emitted by this service")
    _add_attr(p, "the series has this attribute")
    _add_range(p)
    _add_limit(p, "points")
    p.set_defaults(run=_series)


def _add_attr(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--attr",
        action="append",
        type=_args.attribute,
        metavar="K=V",
        help=f"{help_text} (repeat to require several)",
    )


def _add_range(parser: argparse.ArgumentParser) -> None:
    # The query API's default window.
    _args.add_time_range(parser, start="1h before the end", end="now")


def _add_limit(parser: argparse.ArgumentParser, what: str = "results") -> None:
    parser.add_argument("--limit", type=_args.positive_int, metavar="N", help=f"at most N {what}")


def _listing(
    args: argparse.Namespace,
    path: str,
    params: Params,
    key: str,
    columns: Sequence[Column],
    row: Callable[[Mapping[str, Any]], list[str]],
    empty: str,
) -> int:
    """GET ``path``, then print its raw JSON (``--json``) or the ``key`` list as a table."""
    with ApiClient.from_args(args) as client:
        body = client.get_bytes(path, params)
    if args.json:
        write_raw_json(body)
        return 0
    items = answer_items(body, key)
    if not items:
        print(empty, file=sys.stderr)
        return 0
    print_table(columns, (row(item) for item in items))
    return 0


def _services(args: argparse.Namespace) -> int:
    return _listing(
        args,
        "/api/services",
        {"start": args.start, "end": args.end},
        "services",
        [Column("SERVICE"), Column("SPANS", right=True), Column("ERRORS", right=True)],
        lambda s: [
            str(s.get("name", "")),
            format_count(s.get("spanCount")),
            format_count(s.get("errorCount")),
        ],
        "no services yet",
    )


def _operations(args: argparse.Namespace) -> int:
    return _listing(
        args,
        f"/api/services/{path_segment(args.service)}/operations",
        {"start": args.start, "end": args.end},
        "operations",
        [
            Column("OPERATION"),
            Column("KIND"),
            Column("SPANS", right=True),
            Column("ERRORS", right=True),
            Column("P50", right=True),
            Column("P95", right=True),
            Column("P99", right=True),
        ],
        lambda o: [
            str(o.get("name", "")),
            _span_kind(o.get("spanKind")),
            format_count(o.get("spanCount")),
            format_count(o.get("errorCount")),
            format_ms(o.get("p50Ms")),
            format_ms(o.get("p95Ms")),
            format_ms(o.get("p99Ms")),
        ],
        f"no operations for service {args.service!r}",
    )


def _map(args: argparse.Namespace) -> int:
    return _listing(
        args,
        "/api/service-graph",
        {"start": args.start, "end": args.end, "service": args.service},
        "edges",
        [
            Column("CLIENT"),
            Column("SERVER"),
            Column("KIND"),
            Column("REQ/S", right=True),
            Column("ERRORS", right=True),
            Column("P50", right=True),
            Column("P95", right=True),
            Column("P99", right=True),
        ],
        lambda e: [
            str(e.get("client", "")),
            str(e.get("server", "")),
            str(e.get("connection") or "call").replace("_", " "),
            f"{e.get('ratePerSecond', 0):.3g}",
            f"{100 * e.get('errorRate', 0):.1f}%",
            format_ms(e.get("p50Ms")),
            format_ms(e.get("p95Ms")),
            format_ms(e.get("p99Ms")),
        ],
        "no calls between services in this range",
    )


def _traces(args: argparse.Namespace) -> int:
    params: Params = {
        "service": args.service,
        "name": args.name,
        "attr": args.attr,
        "minDuration": args.min_duration,
        "maxDuration": args.max_duration,
        "status": args.status,
        "start": args.start,
        "end": args.end,
        "limit": args.limit,
    }
    return _listing(
        args,
        "/api/search/traces",
        params,
        "traces",
        [
            Column("TRACE ID"),
            Column("START"),
            Column("DURATION", right=True),
            Column("SPANS", right=True),
            Column("ERRORS", right=True),
            Column("ROOT SERVICE"),
            Column("ROOT SPAN"),
        ],
        lambda t: [
            str(t.get("traceId", "")),
            format_time(t.get("startTimeUnixNano")),
            format_ms(t.get("durationMs")),
            format_count(t.get("spanCount")),
            format_count(t.get("errorCount")),
            str(t.get("rootServiceName") or "-"),
            str(t.get("rootSpanName") or "-"),
        ],
        "no traces match",
    )


def _logs(args: argparse.Namespace) -> int:
    params: Params = {
        "service": args.service,
        "severity": args.severity,
        "text": args.text,
        "traceId": args.trace_id,
        "attr": args.attr,
        "start": args.start,
        "end": args.end,
        "limit": args.limit,
    }
    return _listing(
        args,
        "/api/search/logs",
        params,
        "logs",
        [Column("TIME"), Column("SEVERITY"), Column("SERVICE"), Column("TRACE ID"), Column("BODY")],
        lambda r: [
            format_time(r.get("timeUnixNano")),
            str(r.get("severityText") or _severity_name(r.get("severityNumber"))),
            str(r.get("serviceName") or "-"),
            str(r.get("traceId") or "-"),
            _log_body(r),
        ],
        "no log records match",
    )


def _log_body(record: Mapping[str, Any]) -> str:
    body = format_any_value(record.get("body"))
    if not body and record.get("eventName"):
        body = f"[{record['eventName']}]"
    attributes = format_attributes(record.get("attributes"))
    return f"{body}  {attributes}" if attributes else body


def _metrics(args: argparse.Namespace) -> int:
    return _listing(
        args,
        "/api/metrics",
        {"service": args.service, "start": args.start, "end": args.end},
        "metrics",
        [
            Column("METRIC"),
            Column("TYPE"),
            Column("UNIT"),
            Column("SERIES", right=True),
            Column("DESCRIPTION"),
        ],
        lambda m: [
            str(m.get("name", "")),
            str(m.get("type") or "-"),
            str(m.get("unit") or "-"),
            format_count(m.get("seriesCount")),
            str(m.get("description") or ""),
        ],
        "no metrics yet",
    )


def _series(args: argparse.Namespace) -> int:
    params: Params = {
        "service": args.service,
        "attr": args.attr,
        "start": args.start,
        "end": args.end,
        "limit": args.limit,
    }
    path = f"/api/metrics/{path_segment(args.name)}/series"
    with ApiClient.from_args(args) as client:
        body = client.get_bytes(path, params)
    if args.json:
        write_raw_json(body)
        return 0
    series = answer_items(body, "series")
    if not series:
        print(f"no series for metric {args.name!r}", file=sys.stderr)
        return 0
    for i, one in enumerate(series):
        if i:
            print()
        labels = " ".join(
            text
            for text in (
                format_attributes(one.get("resource")),
                format_attributes(one.get("attributes")),
            )
            if text
        )
        kind = f" ({one['type']})" if one.get("type") else ""
        print(f"{args.name}{kind} {{{labels}}}")
        points = [p for p in one.get("points") or [] if isinstance(p, Mapping)]
        print_table(
            [Column("TIME"), Column("VALUE")],
            ([format_time(_point_time(p)), _point_value(p)] for p in points),
        )
    return 0


def _point_time(point: Mapping[str, Any]) -> Any:
    return point.get("timeUnixNano", point.get("time"))


def _point_value(point: Mapping[str, Any]) -> str:
    """A gauge or sum point shows its number; a distribution its count, sum, min, max and
    quantiles (``--json`` has the buckets)."""
    if "value" in point:
        return str(point["value"])
    parts = [
        f"{key}={point[key]}"
        for key in ("count", "sum", "min", "max")
        if point.get(key) is not None
    ]
    for quantile in point.get("quantileValues") or ():
        if isinstance(quantile, Mapping):
            parts.append(f"q{quantile.get('quantile')}={quantile.get('value')}")
    return " ".join(parts) or "-"


def _severity_name(number: Any) -> str:
    """OTLP severity number → its short name: 9 is INFO, 10 is INFO2, 17 is ERROR."""
    if not isinstance(number, int) or not 1 <= number <= 24:
        return "-"
    name = _SEVERITIES[(number - 1) // 4]
    step = (number - 1) % 4
    return f"{name}{step + 1}" if step else name


def _span_kind(kind: Any) -> str:
    if isinstance(kind, int):
        return _SPAN_KINDS.get(kind, str(kind))
    if isinstance(kind, str):
        return kind.removeprefix("SPAN_KIND_").lower() or "-"
    return "-"

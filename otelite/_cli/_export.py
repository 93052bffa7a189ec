"""``otelite export``: stream stored data out of a running otelite as OTLP/JSON lines."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import orjson
from tqdm import tqdm

from otelite._cli import _args
from otelite._cli._client import ApiClient, CliError
from otelite.types import Signal

__all__ = ["count_items", "register"]

_ITEM_NOUN = {Signal.TRACES: "spans", Signal.METRICS: "data points", Signal.LOGS: "log records"}
_METRIC_KINDS = ("gauge", "sum", "histogram", "exponentialHistogram", "summary")


class _Output(Protocol):
    def write(self, data: bytes, /) -> int: ...


def register(
    commands: _args.Commands,
    parent: argparse.ArgumentParser,
) -> None:
    """Add the ``export`` command; ``parent`` carries the connection options."""
    p = commands.add_parser(
        "export",
        parents=[parent],
        help="write stored data as OTLP/JSON lines",
        description="Write stored data as JSON lines, one OTLP/JSON export request per line "
        "(the format `otelite import` reads). A FILE ending in .gz is gzip-compressed.",
    )
    p.add_argument("--signal", required=True, type=Signal, choices=list(Signal))
    _args.add_time_range(p, start="the oldest data", end="the newest data")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write here, not to stdout")
    p.set_defaults(run=_export)


def count_items(signal: Signal, request: Any) -> int:
    """Spans, metric data points or log records in one OTLP/JSON export request."""
    if not isinstance(request, dict):
        return 0
    if signal is Signal.TRACES:
        return sum(
            len(s.get("spans") or ()) for s in _scopes(request, "resourceSpans", "scopeSpans")
        )
    if signal is Signal.LOGS:
        return sum(
            len(s.get("logRecords") or ()) for s in _scopes(request, "resourceLogs", "scopeLogs")
        )
    total = 0
    for scope in _scopes(request, "resourceMetrics", "scopeMetrics"):
        for metric in scope.get("metrics") or ():
            for kind in _METRIC_KINDS:
                data = metric.get(kind) if isinstance(metric, dict) else None
                if isinstance(data, dict):
                    total += len(data.get("dataPoints") or ())
    return total


def _scopes(request: dict[str, Any], resource_key: str, scope_key: str) -> Iterator[dict[str, Any]]:
    for resource in request.get(resource_key) or ():
        if isinstance(resource, dict):
            yield from (s for s in resource.get(scope_key) or () if isinstance(s, dict))


def _export(args: argparse.Namespace) -> int:
    signal: Signal = args.signal
    params = {"signal": signal.value, "start": args.start, "end": args.end}
    with (
        ApiClient.from_args(args) as client,
        client.stream_lines("/api/export", params) as lines,
    ):
        if args.output is None:
            sys.stdout.flush()
            out = sys.stdout.buffer
            for line in lines:
                out.write(line + b"\n")
            out.flush()
            return 0
        requests, items = _export_to_file(signal, lines, args.output)
    print(
        f"exported {requests} requests ({items} {_ITEM_NOUN[signal]}) to {args.output}",
        file=sys.stderr,
    )
    return 0


def _export_to_file(signal: Signal, lines: Iterator[bytes], path: Path) -> tuple[int, int]:
    """Write ``lines`` to ``path`` with a progress bar; the file appears only when complete."""
    requests = items = 0
    with (
        _atomic_output(path) as out,
        tqdm(desc=f"export {signal.value}", unit=" requests", file=sys.stderr, leave=False) as bar,
    ):
        for line in lines:
            out.write(line + b"\n")
            requests += 1
            try:
                items += count_items(signal, orjson.loads(line))
            except orjson.JSONDecodeError:
                raise CliError(f"the server sent a line that is not JSON: {line[:80]!r}") from None
            bar.update(1)
            bar.set_postfix({_ITEM_NOUN[signal]: items}, refresh=False)
    return requests, items


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[_Output]:
    """A file written beside ``path`` and renamed onto it on success, gzip for ``.gz``.

    An interrupted export then never leaves a truncated file that looks complete. The file
    is readable by its owner only (as ``mkstemp`` makes it): telemetry can carry secrets.
    """
    directory = path.parent
    try:
        handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror}") from None
    temp = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as raw:
            if path.suffix == ".gz":
                with gzip.GzipFile(filename=path.stem, mode="wb", fileobj=raw) as zipped:
                    yield zipped
            else:
                yield raw
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

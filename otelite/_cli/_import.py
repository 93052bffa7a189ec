"""``otelite import``: send OTLP/JSON lines (as written by ``export``) to an OTLP/HTTP receiver."""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import orjson
from google.protobuf.message import DecodeError
from google.rpc.status_pb2 import Status  # type: ignore[import-untyped]
from tqdm import tqdm

from otelite._cli import _args
from otelite._cli._client import (
    CliError,
    add_access_arguments,
    connect_error,
    http_client,
    unauthorized_hint,
)
from otelite.errors import OteliteError
from otelite.otlp import Backoff, request_from_json, retry_after_seconds
from otelite.types import ExportResponse, Signal

__all__ = ["Backoff", "register", "retry_after_seconds", "signal_of"]

DEFAULT_OTLP_URL = "http://127.0.0.1:4318"
# Files at least this large get a progress bar; small ones finish before it would help.
_PROGRESS_MIN_BYTES = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_RETRYABLE = frozenset({429, 502, 503, 504})
_SIGNAL_KEYS = {
    "resourceSpans": Signal.TRACES,
    "resourceMetrics": Signal.METRICS,
    "resourceLogs": Signal.LOGS,
}
_REJECTED_FIELD = {
    Signal.TRACES: "rejected_spans",
    Signal.METRICS: "rejected_data_points",
    Signal.LOGS: "rejected_log_records",
}


@dataclass(slots=True)
class _Totals:
    requests: int = 0
    rejected: int = 0
    by_signal: dict[Signal, int] = field(default_factory=dict)


def register(commands: _args.Commands) -> None:
    """Add the ``import`` command."""
    p = commands.add_parser(
        "import",
        help="send OTLP/JSON lines files to an OTLP/HTTP receiver",
        description="Read JSON lines of OTLP/JSON export requests (as `otelite export` writes "
        "them; gzip files too) and send each as protobuf to an OTLP/HTTP receiver.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="files to read; - reads stdin")
    p.add_argument(
        "--otlp-url",
        default=os.environ.get("OTELITE_OTLP_URL") or DEFAULT_OTLP_URL,
        metavar="URL",
        help=f"OTLP/HTTP receiver (default: $OTELITE_OTLP_URL or {DEFAULT_OTLP_URL})",
    )
    p.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="per request (default: 30)"
    )
    add_access_arguments(p)
    p.set_defaults(run=_import)


def signal_of(request: Any) -> Signal | None:
    """The signal of a decoded OTLP/JSON export request, from its top-level key.

    None for an object with none of the keys (an empty request, which carries nothing).
    """
    if not isinstance(request, dict):
        raise ValueError("expected a JSON object")
    found = {signal for key, signal in _SIGNAL_KEYS.items() if key in request}
    if len(found) > 1:
        raise ValueError("has more than one of resourceSpans, resourceMetrics, resourceLogs")
    return found.pop() if found else None


def _import(args: argparse.Namespace) -> int:
    otlp_url = args.otlp_url.rstrip("/")
    totals = _Totals()
    backoff = Backoff()
    with http_client(
        timeout=args.timeout, token=args.token, ca_cert=args.ca_cert, tenant=args.tenant
    ) as client:
        for name in args.files:
            _import_file(client, otlp_url, name, totals, backoff)
    sent = ", ".join(f"{count} {signal.value}" for signal, count in totals.by_signal.items())
    summary = f"imported {totals.requests} requests ({sent or 'nothing'}) into {otlp_url}"
    if totals.rejected:
        print(f"{summary}; the receiver rejected {totals.rejected} items", file=sys.stderr)
        return 1
    print(summary, file=sys.stderr)
    return 0


def _import_file(
    client: httpx.Client, otlp_url: str, name: str, totals: _Totals, backoff: Backoff
) -> None:
    shown = "<stdin>" if name == "-" else name
    with _open(name) as (raw, lines):
        size = _size(raw)
        with tqdm(
            total=size,
            desc=f"import {shown}",
            unit="B",
            unit_scale=True,
            file=sys.stderr,
            leave=False,
            disable=size is None or size < _PROGRESS_MIN_BYTES,
        ) as bar:
            for number, line in enumerate(lines, start=1):
                where = f"{shown}:{number}"
                if line.strip():
                    _send_line(client, otlp_url, where, line, totals, backoff)
                if size is not None:
                    bar.update(raw.tell() - bar.n)


def _send_line(
    client: httpx.Client,
    otlp_url: str,
    where: str,
    line: bytes,
    totals: _Totals,
    backoff: Backoff,
) -> None:
    try:
        document = orjson.loads(line)
        signal = signal_of(document)
    except (orjson.JSONDecodeError, ValueError) as error:
        raise CliError(f"{where}: not an OTLP/JSON export request: {error}") from None
    if signal is None:
        return
    try:
        request = request_from_json(signal, document)
    except OteliteError as error:
        raise CliError(f"{where}: {error}") from None
    response = _post(
        client, f"{otlp_url}/v1/{signal.value}", request.SerializeToString(), where, backoff
    )
    totals.requests += 1
    totals.by_signal[signal] = totals.by_signal.get(signal, 0) + 1
    rejected = _rejected(signal, response.content)
    if rejected is not None:
        count, message = rejected
        totals.rejected += count
        print(f"otelite: {where}: the receiver rejected {count} items: {message}", file=sys.stderr)


def _post(
    client: httpx.Client, url: str, body: bytes, where: str, backoff: Backoff
) -> httpx.Response:
    """POST, retrying what OTLP says to retry (429, 502, 503, 504, timeouts)."""
    deadline = time.monotonic() + backoff.budget
    waits = backoff.waits()
    attempts = 0
    while True:
        attempts += 1
        told: float | None = None
        try:
            response = client.post(
                url, content=body, headers={"Content-Type": "application/x-protobuf"}
            )
        except httpx.ConnectError as error:
            raise connect_error(url, error, "the OTLP receiver") from None
        except httpx.TimeoutException:
            reason = "timed out"  # a duplicate after a timeout is harmless: OTLP expects them
        except httpx.TransportError as error:
            raise CliError(f"{where}: sending to {url} failed: {error}") from None
        else:
            if response.status_code not in _RETRYABLE:
                if response.is_error:
                    raise CliError(
                        f"{where}: {url} refused the request with HTTP {response.status_code}: "
                        f"{_error_message(response)}{unauthorized_hint(response)}"
                    )
                return response
            reason = f"HTTP {response.status_code}"
            told = retry_after_seconds(response.headers.get("Retry-After"))
        wait = next(waits) if told is None else told
        if time.monotonic() + wait > deadline:
            raise CliError(f"{where}: giving up on {url} after {attempts} attempts ({reason})")
        time.sleep(wait)


def _rejected(signal: Signal, body: bytes) -> tuple[int, str] | None:
    """A partial success in a 200 answer: (rejected count, message), None when all is taken."""
    try:
        response: ExportResponse = signal.response_type.FromString(body)
    except DecodeError:
        return None
    if not response.HasField("partial_success"):
        return None
    partial = response.partial_success
    count = int(getattr(partial, _REJECTED_FIELD[signal]))
    if count == 0:
        if partial.error_message:
            print(f"otelite: receiver warning: {partial.error_message}", file=sys.stderr)
        return None
    return count, partial.error_message or "no reason given"


def _error_message(response: httpx.Response) -> str:
    """The message of a ``google.rpc.Status`` error body, protobuf or JSON."""
    content_type = response.headers.get("Content-Type", "")
    if "json" in content_type:
        with contextlib.suppress(orjson.JSONDecodeError):
            document = orjson.loads(response.content)
            if isinstance(document, dict) and isinstance(document.get("message"), str):
                return str(document["message"])
    elif "protobuf" in content_type:
        with contextlib.suppress(DecodeError):
            return str(Status.FromString(response.content).message)
    return response.content.decode("utf-8", "replace").strip()[:200] or response.reason_phrase


@contextlib.contextmanager
def _open(name: str) -> Iterator[tuple[io.BufferedReader, Iterator[bytes]]]:
    """The raw file (for progress) and its lines, decompressed when it starts as gzip."""
    try:
        raw = _stdin() if name == "-" else open(name, "rb")  # noqa: SIM115
    except OSError as error:
        raise CliError(f"cannot read {name}: {error.strerror}") from None
    try:
        zipped = raw.peek(2)[:2] == _GZIP_MAGIC
        lines: Iterator[bytes] = iter(gzip.GzipFile(fileobj=raw, mode="rb")) if zipped else raw
        try:
            yield raw, lines
        except (OSError, EOFError) as error:
            # A corrupt or truncated gzip file shows up only while reading it.
            raise CliError(f"cannot read {name}: {error}") from None
    finally:
        if name != "-":
            raw.close()


def _stdin() -> io.BufferedReader:
    buffer = sys.stdin.buffer
    if isinstance(buffer, io.BufferedReader):
        return buffer
    return io.BufferedReader(cast("io.RawIOBase", buffer))


def _size(raw: io.BufferedReader) -> int | None:
    try:
        return os.fstat(raw.fileno()).st_size if raw.seekable() else None
    except (OSError, ValueError):
        return None

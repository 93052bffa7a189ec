"""Fuzz targets: the path an OTLP request body takes before anything is stored.

A target takes any bytes. The first byte picks the signal, the rest is the body, which
goes through what the receivers and the flatten worker do with it: decode, validate,
and turn what validation kept into the tables storage inserts. The only exception any of
it may raise is ``InvalidRequest`` (the receiver's 400); anything else escaping a target
is a crash.
"""

from __future__ import annotations

from collections.abc import Callable

from otelite.config import Limits
from otelite.errors import InvalidRequest
from otelite.otlp import decode_request_json
from otelite.otlp._validate import validate
from otelite.receivers._export import decode_request_proto
from otelite.storage import flatten
from otelite.types import ExportRequest, Signal

__all__ = ["TARGETS", "otlp_json", "otlp_protobuf", "split"]

_SIGNALS = list(Signal)
_LIMITS = Limits()


def split(data: bytes) -> tuple[Signal, bytes]:
    """The signal (from the first byte) and the body."""
    if not data:
        return Signal.TRACES, b""
    return _SIGNALS[data[0] % len(_SIGNALS)], data[1:]


def otlp_protobuf(data: bytes) -> None:
    """A binary OTLP body, as OTLP/gRPC and OTLP/HTTP protobuf receive it."""
    signal, body = split(data)
    _receive(signal, body, decode_request_proto, binary=True)


def otlp_json(data: bytes) -> None:
    """An OTLP/JSON body, as OTLP/HTTP JSON receives it."""
    signal, body = split(data)
    _receive(signal, body, decode_request_json, binary=False)


def _receive(
    signal: Signal,
    body: bytes,
    decode: Callable[[Signal, bytes], ExportRequest],
    *,
    binary: bool,
) -> None:
    """Decode, validate (told the body, or its size, as the receivers tell it), store."""
    try:
        request = decode(signal, body)
    except InvalidRequest:
        return
    if binary:
        validate(signal, request, _LIMITS, body=body)
    else:
        validate(signal, request, _LIMITS, encoded_size=len(body))
    _store(signal, request)


def _store(signal: Signal, request: ExportRequest) -> None:
    # As the flatten worker gets it: the request serialized (the body itself, when
    # validation changed nothing), read through otelite's own wire reader.
    payload = [request.SerializeToString()]
    if signal is Signal.TRACES:
        flatten(payload, [], [])
    elif signal is Signal.LOGS:
        flatten([], [], payload)
    else:
        flatten([], payload, [])


TARGETS: dict[str, Callable[[bytes], None]] = {
    "otlp_protobuf": otlp_protobuf,
    "otlp_json": otlp_json,
}

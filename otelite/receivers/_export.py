"""The path every OTLP request takes after its transport: decode, validate, consume, answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from google.protobuf.message import DecodeError

from otelite.config import Limits
from otelite.errors import InvalidRequest
from otelite.otlp._validate import Rejection, validate
from otelite.pipeline import Consumer, PipelineStats
from otelite.types import ExportRequest, ExportResponse, Signal

__all__ = ["Decoder", "decode_request_proto", "export"]

Decoder = Callable[[Signal, bytes], ExportRequest]
"""Turns a request body into an export request, raising ``InvalidRequest`` when it can't."""

# Bodies above these sizes are decoded and validated on a worker thread, so that one large
# request (up to the size limit: tens of MiB) does not stall every other connection; both
# are about 4 ms of work (protobuf decodes some ten times faster per byte than JSON). Below
# them, the loop does the work itself: the hop to a thread and back (its wake-ups, the GIL
# passed to and fro) costs more than the stall it avoids. SDK batches stay on the loop.
_OFFLOAD_PROTOBUF_BYTES = 1024 * 1024
_OFFLOAD_JSON_BYTES = 128 * 1024

# The partial_success field that counts rejected records, per signal.
_REJECTED_FIELD = {
    Signal.TRACES: "rejected_spans",
    Signal.METRICS: "rejected_data_points",
    Signal.LOGS: "rejected_log_records",
}


def decode_request_proto(signal: Signal, body: bytes) -> ExportRequest:
    """Parse a binary protobuf export request; ``InvalidRequest`` when it is not one."""
    try:
        return signal.request_type.FromString(body)
    except DecodeError as error:
        raise InvalidRequest(f"could not decode the body as protobuf: {error}") from None


async def export(
    consumer: Consumer,
    signal: Signal,
    body: bytes,
    decode: Decoder,
    *,
    limits: Limits,
    stats: PipelineStats,
    tenant: str,
) -> ExportResponse:
    """Decode and validate ``body``, hand what is valid to ``consumer``, build the answer.

    ``tenant`` is the request's checked tenant id, passed on to the consumer.

    ``InvalidRequest`` from decoding and errors from the consumer propagate, for the
    transport to map to its status codes. A request left with nothing in it is answered
    without bothering the consumer. What validation removed and cut is added to ``stats``.
    A protobuf body that validation left unchanged goes to the consumer as the request's
    ``payload``, so that it is not serialized again.
    """
    binary = decode is decode_request_proto
    if len(body) > (_OFFLOAD_PROTOBUF_BYTES if binary else _OFFLOAD_JSON_BYTES):
        request, rejection = await asyncio.to_thread(_decode_valid, signal, body, decode, limits)
    else:
        request, rejection = _decode_valid(signal, body, decode, limits)
    if rejection.message:
        _count(stats, signal, rejection)
    # Each request type has one field, its list of resource envelopes.
    if request.ListFields():
        # A protobuf body that validation left unchanged already is the request serialized.
        payload = body if binary and not rejection.message else None
        await consumer.consume(signal, request, tenant=tenant, payload=payload)
    response = signal.response_type()
    if rejection.message:
        partial = response.partial_success
        setattr(partial, _REJECTED_FIELD[signal], rejection.count)
        partial.error_message = rejection.message
    return response


def _decode_valid(
    signal: Signal, body: bytes, decode: Decoder, limits: Limits
) -> tuple[ExportRequest, Rejection]:
    request = decode(signal, body)
    if decode is decode_request_proto:
        return request, validate(signal, request, limits, body=body)
    return request, validate(signal, request, limits, encoded_size=len(body))


def _count(stats: PipelineStats, signal: Signal, rejection: Rejection) -> None:
    stats.rejected_records[signal] += rejection.count
    stats.dropped_attributes += rejection.dropped_attributes
    stats.dropped_events += rejection.dropped_events
    stats.dropped_links += rejection.dropped_links
    stats.truncated_values += rejection.truncated_values

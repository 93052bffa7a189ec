"""Fuzzing the OTLP decoders, validation and the HTTP handler with hypothesis.

Whatever the bytes, decoding either succeeds or raises ``InvalidRequest``; validation of
whatever decoded never raises; the HTTP receiver answers 200, 400, 413 or 415 — never
500. Inputs are random bytes, random JSON, and valid requests with bytes flipped, cut or
inserted (which reach far deeper into the decoders than random bytes do).

``make test`` runs a few hundred examples per property; ``make fuzz`` sets
``OTELITE_FUZZ_EXAMPLES`` for a long run. A crash found becomes an ``@example`` here.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otelite.config import Limits
from otelite.errors import InvalidRequest
from otelite.otlp import decode_request_json, encode_request_json
from otelite.otlp._validate import validate
from otelite.pipeline import InMemoryConsumer
from otelite.receivers import HttpReceiver
from otelite.receivers._export import decode_request_proto
from otelite.types import Signal
from tests.receivers.support import LoopThread
from tests.strategies import export_requests

EXAMPLES = int(os.environ.get("OTELITE_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SIGNALS = st.sampled_from(list(Signal))
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner),
    max_leaves=30,
)
OTLP_KEYS = st.sampled_from(
    [
        "resourceSpans",
        "resourceLogs",
        "resourceMetrics",
        "scopeSpans",
        "scopeLogs",
        "scopeMetrics",
        "spans",
        "logRecords",
        "metrics",
        "traceId",
        "spanId",
        "attributes",
        "key",
        "value",
        "stringValue",
        "arrayValue",
        "kvlistValue",
        "values",
        "intValue",
        "startTimeUnixNano",
        "gauge",
        "dataPoints",
        "body",
    ]
)
# JSON shaped like OTLP, with the real keys, so the decoder goes past the first level.
OTLP_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(OTLP_KEYS, inner, max_size=4),
    max_leaves=40,
)


@st.composite
def mutated(draw: st.DrawFn, encode: Any) -> tuple[Signal, bytes]:
    """A valid request of a random signal, encoded, then damaged in a few places."""
    signal = draw(SIGNALS)
    body = bytearray(encode(draw(export_requests(signal))))
    for _ in range(draw(st.integers(1, 4))):
        if not body:
            break
        at = draw(st.integers(0, len(body) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            body[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del body[at : at + draw(st.integers(1, 8))]
        elif action == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:
            del body[at:]
    return signal, bytes(body)


def decode_and_validate(signal: Signal, body: bytes, *, as_json: bool) -> None:
    """Decode like a receiver does; anything but success or InvalidRequest is a bug."""
    try:
        request = (
            decode_request_json(signal, body) if as_json else decode_request_proto(signal, body)
        )
    except InvalidRequest:
        return
    validate(signal, request, Limits(max_attributes=4, max_attribute_value_length=8))
    request.SerializeToString()  # what survived validation can be logged and stored


@FUZZ
@given(signal=SIGNALS, body=st.binary(max_size=512))
def test_protobuf_decoder_on_random_bytes(signal: Signal, body: bytes) -> None:
    decode_and_validate(signal, body, as_json=False)


@FUZZ
@given(case=mutated(lambda request: request.SerializeToString()))
def test_protobuf_decoder_on_damaged_requests(case: tuple[Signal, bytes]) -> None:
    decode_and_validate(*case, as_json=False)


@FUZZ
@given(signal=SIGNALS, value=JSON_VALUES | OTLP_LIKE)
def test_json_decoder_on_random_json(signal: Signal, value: Any) -> None:
    # The standard library writes what orjson refuses to: integers past 64 bits, NaN.
    decode_and_validate(signal, json.dumps(value).encode(), as_json=True)


@FUZZ
@given(case=mutated(encode_request_json))
def test_json_decoder_on_damaged_requests(case: tuple[Signal, bytes]) -> None:
    decode_and_validate(*case, as_json=True)


@pytest.fixture(scope="module")
def otlp_http(loop_thread: LoopThread) -> Iterator[httpx.Client]:
    receiver = HttpReceiver(InMemoryConsumer(), port=0, limits=Limits(max_request_bytes=64 * 1024))
    loop_thread.run(receiver.start())
    with httpx.Client(base_url=f"http://127.0.0.1:{receiver.port}") as client:
        yield client
    loop_thread.run(receiver.shutdown())


@FUZZ
@given(
    signal=SIGNALS,
    body=st.binary(max_size=256) | mutated(lambda r: r.SerializeToString()).map(lambda c: c[1]),
    content_type=st.sampled_from(
        ["application/x-protobuf", "application/json", "text/plain", "", "application/json; x"]
    ),
    encoding=st.sampled_from(["", "gzip", "identity", "deflate", "gzip, gzip", "x-gzip"]),
    compress=st.booleans(),
)
def test_http_handler_never_fails_with_500(
    otlp_http: httpx.Client,
    signal: Signal,
    body: bytes,
    content_type: str,
    encoding: str,
    compress: bool,
) -> None:
    headers = {"Content-Type": content_type, "Content-Encoding": encoding}
    content = gzip.compress(body) if compress else body
    response = otlp_http.post(f"/v1/{signal.value}", content=content, headers=headers)
    assert response.status_code in (200, 400, 413, 415), response.text

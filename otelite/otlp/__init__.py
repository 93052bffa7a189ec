"""OTLP wire codecs (OTLP/JSON for requests, responses and error bodies), validation, the
retry rules OTLP clients follow, and picking spans out of a trace. No I/O here."""

from __future__ import annotations

from otelite.otlp._anyvalue import (
    any_value_from_json,
    any_value_plain,
    any_value_to_json,
    double_to_json,
    key_values_from_json,
    key_values_to_json,
)
from otelite.otlp._gotext import go_json_text
from otelite.otlp._json import (
    decode_request_json,
    decode_response_json,
    encode_request_json,
    encode_response_json,
    encode_status_json,
    request_from_json,
    request_to_json,
    status_proto,
)
from otelite.otlp._retry import Backoff, retry_after_seconds
from otelite.otlp._select import only_spans, only_traces

__all__ = [
    "Backoff",
    "any_value_from_json",
    "any_value_plain",
    "any_value_to_json",
    "decode_request_json",
    "decode_response_json",
    "double_to_json",
    "encode_request_json",
    "encode_response_json",
    "encode_status_json",
    "go_json_text",
    "key_values_from_json",
    "key_values_to_json",
    "only_spans",
    "only_traces",
    "request_from_json",
    "request_to_json",
    "retry_after_seconds",
    "status_proto",
]

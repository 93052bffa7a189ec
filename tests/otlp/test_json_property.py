"""Properties: every generated request survives OTLP/JSON; protobuf's own JSON is read."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st

from otelite.config import Limits
from otelite.otlp import decode_request_json, encode_request_json, request_from_json
from otelite.otlp._validate import validate
from otelite.types import ExportRequest, Signal
from tests.strategies import export_requests, same_message

# Each example is a whole request with every field: a few dozen per signal stay quick.
EXAMPLES = settings(max_examples=50, deadline=None)
FEWER = settings(max_examples=25, deadline=None)


@pytest.mark.parametrize("signal", list(Signal))
@EXAMPLES
@given(data=st.data())
def test_decode_of_encode_is_identity(signal: Signal, data: st.DataObject) -> None:
    request = data.draw(export_requests(signal, extended=True))
    encoded = encode_request_json(request)
    assert b"\n" not in encoded
    assert same_message(decode_request_json(signal, encoded), request)


def _clear_ids(message: Any) -> None:
    """Empty every id field: protobuf's JSON writes bytes as base64, OTLP/JSON as hex."""
    for field, value in message.ListFields():
        if field.name in ("trace_id", "span_id", "parent_span_id"):
            message.ClearField(field.name)
        elif field.message_type is not None:
            for child in value if field.is_repeated else [value]:
                _clear_ids(child)


@pytest.mark.parametrize("signal", list(Signal))
@FEWER
@given(data=st.data())
def test_protobuf_json_without_ids_is_accepted(signal: Signal, data: st.DataObject) -> None:
    request: ExportRequest = data.draw(export_requests(signal, extended=True))
    _clear_ids(request)
    # Enum names, int64 strings, base64 bytesValue, "NaN": all protobuf JSON spellings.
    as_names = json_format.MessageToDict(request)
    as_numbers = json_format.MessageToDict(request, use_integers_for_enums=True)
    assert same_message(request_from_json(signal, as_names), request)
    assert same_message(decode_request_json(signal, orjson.dumps(as_numbers)), request)


@pytest.mark.parametrize("signal", list(Signal))
@FEWER
@given(data=st.data())
def test_default_strategies_make_requests_validation_keeps_whole(
    signal: Signal, data: st.DataObject
) -> None:
    request = data.draw(export_requests(signal))
    before = request.SerializeToString(deterministic=True)
    # Generated times span the whole int64 range, so the window around "now" is off.
    rejection = validate(signal, request, Limits(max_future_seconds=None))
    assert (rejection.count, rejection.message) == (0, "")
    assert request.SerializeToString(deterministic=True) == before

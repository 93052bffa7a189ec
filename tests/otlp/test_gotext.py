"""Values as the Collector writes them as text: the expected strings are what Go's
``strconv`` (ECMAScript number layout) and ``encoding/json`` produce by their documentation."""

from __future__ import annotations

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

from otelite.otlp._gotext import go_float_text, go_json_text
from otelite.storage._attributes import any_value_from_text, any_value_to_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (0.1, "0.1"),
        (-3.25, "-3.25"),
        (0.0, "0"),
        (-0.0, "-0"),
        (1e-6, "0.000001"),  # from 1e-6 up to 1e21: plain digits
        (1e20, "100000000000000000000"),
        (123456789.125, "123456789.125"),
        (1e-7, "1e-7"),  # below: exponent, without Go's leading zero
        (2.5e-10, "2.5e-10"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (5e-324, "5e-324"),
        (float("nan"), "json: unsupported value: NaN"),
        (float("inf"), "json: unsupported value: +Inf"),
        (float("-inf"), "json: unsupported value: -Inf"),
    ],
)
def test_doubles(value: float, text: str) -> None:
    assert go_float_text(value) == text


def kv(key: str, value: AnyValue) -> KeyValue:
    return KeyValue(key=key, value=value)


def test_lists_are_gos_json_of_their_plain_values() -> None:
    value = AnyValue(
        kvlist_value=KeyValueList(
            values=[
                kv("b", AnyValue(int_value=1)),
                kv(
                    "a",
                    AnyValue(
                        array_value=ArrayValue(
                            values=[
                                AnyValue(bool_value=True),
                                AnyValue(string_value='x<y & "z"\n'),
                                AnyValue(double_value=2.0),
                                AnyValue(bytes_value=b"\x00\xff"),
                                AnyValue(),
                            ]
                        )
                    ),
                ),
            ]
        )
    )
    # Keys sorted; <, >, & escaped; bytes as base64; 2.0 as 2; an empty value as null.
    assert go_json_text(value) == '{"a":[true,"x\\u003cy \\u0026 \\"z\\"\\n",2,"AP8=",null],"b":1}'


def test_what_go_cannot_encode_is_empty() -> None:
    nan = AnyValue(array_value=ArrayValue(values=[AnyValue(double_value=float("nan"))]))
    assert go_json_text(nan) == ""
    assert go_json_text(AnyValue()) == ""


@pytest.mark.parametrize(
    "value",
    [
        AnyValue(double_value=float("nan")),
        AnyValue(double_value=-0.0),
        AnyValue(double_value=1e-7),
        AnyValue(
            array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(double_value=1.0)])
        ),
        AnyValue(),
    ],
)
def test_the_text_and_its_type_code_give_the_value_back(value: AnyValue) -> None:
    text, code = any_value_to_text(value)
    back = any_value_from_text(text, code)
    assert back.SerializeToString() == value.SerializeToString() or (
        back.double_value != back.double_value  # NaN is not equal to itself
    )


def test_text_written_before_the_collectors_forms_still_reads() -> None:
    assert any_value_from_text("1.0", "d").double_value == 1.0
    assert any_value_from_text("Infinity", "d").double_value == float("inf")
    old = any_value_from_text('{"arrayValue":{"values":[{"intValue":"1"}]}}', "j")
    assert old.array_value.values[0].int_value == 1

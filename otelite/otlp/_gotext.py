"""AnyValues as the OpenTelemetry Collector renders them as text (pdata's ``AsString``).

The Collector's ClickHouse exporter stores every attribute value and log body as this
text, so otelite writes the same: doubles as ECMAScript writes numbers (``1``, ``0.1``,
``1e-7``, ``1.5e+21``), arrays and key-value lists as Go's ``encoding/json`` output of
their plain values (keys sorted, bytes in base64, ``<``, ``>``, ``&`` escaped), and an
empty value as the empty string. Numbers JSON cannot hold make Go's encoder fail, which
the Collector turns into text for a double and into an empty string for a list.
"""

from __future__ import annotations

import base64
import math
from decimal import Decimal

from opentelemetry.proto.common.v1.common_pb2 import AnyValue

__all__ = ["UNSUPPORTED_PREFIX", "go_float_text", "go_json_text"]

UNSUPPORTED_PREFIX = "json: unsupported value: "
"""How the Collector renders a NaN or infinite double (Go's error text)."""

_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


class _Unsupported(ValueError):
    """A NaN or infinity inside a list: Go's encoder gives up on the whole value."""


def go_float_text(value: float) -> str:
    """A double as the Collector writes it."""
    if not math.isfinite(value):
        name = "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")
        return UNSUPPORTED_PREFIX + name
    return _ecmascript(value)


def _ecmascript(value: float) -> str:
    # repr gives the shortest digits that read back as the same double, as Go's -1
    # precision does; only the layout differs.
    number = Decimal(repr(value)).normalize()
    magnitude = abs(value)
    if magnitude == 0 or 1e-6 <= magnitude < 1e21:
        text = format(number, "f")
        return "-0" if text == "0" and math.copysign(1.0, value) < 0 else text
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    mantissa = str(digits[0]) + ("." + "".join(map(str, digits[1:])) if len(digits) > 1 else "")
    power = exponent + len(digits) - 1
    power_text = (
        f"{abs(power):02d}" if power >= 0 else (f"{-power:02d}" if -power >= 10 else str(-power))
    )
    return ("-" if sign else "") + mantissa + "e" + ("+" if power >= 0 else "-") + power_text


def go_json_text(value: AnyValue) -> str:
    """An array, key-value list or empty value as the Collector writes it."""
    kind = value.WhichOneof("value")
    if kind is None:
        return ""
    try:
        return _json(value)
    except _Unsupported:
        return ""


def _json(value: AnyValue) -> str:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return _string(value.string_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "int_value":
        return str(value.int_value)
    if kind == "double_value":
        if not math.isfinite(value.double_value):
            raise _Unsupported
        return _ecmascript(value.double_value)
    if kind == "bytes_value":
        return '"' + base64.b64encode(value.bytes_value).decode("ascii") + '"'
    if kind == "array_value":
        return "[" + ",".join(_json(item) for item in value.array_value.values) + "]"
    if kind == "kvlist_value":
        # A Go map: one entry per key (the last one wins), keys sorted.
        entries = {kv.key: kv.value for kv in value.kvlist_value.values}
        return (
            "{" + ",".join(f"{_string(key)}:{_json(entries[key])}" for key in sorted(entries)) + "}"
        )
    return "null"


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)

"""JSON responses, and stored attribute maps turned back into JSON values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.responses import Response

from otelite.otlp import any_value_to_json, double_to_json
from otelite.storage import any_value_from_text

__all__ = ["JSONResponse", "any_value_json", "attribute_dict", "error_response", "key_values_json"]

MapRows = Sequence[tuple[str, str]] | None


class JSONResponse(Response):
    """``application/json`` through orjson (fast, and exact for big integers)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """The body every API error has: ``{"error": message}``."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def any_value_json(text: str, code: str | None) -> dict[str, Any]:
    """A stored value (string form and type code) as an OTLP/JSON ``AnyValue``."""
    if code is None:
        return {"stringValue": text}
    return any_value_to_json(any_value_from_text(text, code))


def key_values_json(values: MapRows, types: MapRows) -> list[dict[str, Any]]:
    """Stored attribute maps as an OTLP/JSON key-value list, in stored order."""
    codes = dict(types or ())
    return [{"key": k, "value": any_value_json(v, codes.get(k))} for k, v in values or ()]


def attribute_dict(values: MapRows, types: MapRows) -> dict[str, Any]:
    """Stored attribute maps as ``{key: value}`` with JSON-native values.

    Ints, doubles and bools become JSON numbers and booleans (non-finite doubles the
    strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``), bytes stay base64, and arrays and
    maps are their OTLP/JSON ``AnyValue``.
    """
    codes = dict(types or ())
    return {key: _plain(text, codes.get(key)) for key, text in values or ()}


def _plain(text: str, code: str | None) -> Any:
    if code is None or code == "y":
        return text
    if code == "i":
        return int(text)
    if code == "d":
        return double_to_json(float(text))
    if code == "b":
        return text == "true"
    return orjson.loads(text)

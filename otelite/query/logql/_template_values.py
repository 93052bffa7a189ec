"""The values a LogQL template computes with, as Go types: what they are called, when
they are true, and how sprig's functions turn one into a number.

Go values map onto Python ones: ``string`` is :class:`str`, ``bool`` :class:`bool`,
``int`` :class:`int`, ``int64`` :class:`Int64` (what sprig's arithmetic returns: Go
refuses it where an ``int`` is wanted, so the difference is kept), ``float64``
:class:`float`, ``time.Time`` :class:`GoTime`, an untyped ``nil`` None. Labels are a
``map[string]string``: any :class:`Mapping` but a :class:`JsonObject`, which is what
``fromJson`` gives for an object (``map[string]interface {}``); JSON arrays are lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from otelite.query.logql._strconv import parse_float, parse_int
from otelite.query.logql._template_time import GoTime

__all__ = [
    "ANY",
    "Function",
    "GoError",
    "Int64",
    "JsonObject",
    "decode_json",
    "to_float64",
    "to_int64",
    "truth",
    "type_name",
    "wrap_int64",
]


class GoError(Exception):
    """What a Go function returns as its error (or panics with); the template reports it
    as ``error calling NAME: MESSAGE``."""


ANY = "interface {}"  # a parameter that takes any value, nil included


@dataclass(frozen=True, slots=True)
class Function:
    """A Go function as a template calls it: the Go types of its parameters (``"string"``,
    ``"int"``, ``"float64"``, ``"bool"``, ``"time.Time"`` or :data:`ANY`), the type of
    its ``...`` parameter if it has one, and its body, which raises :class:`GoError`."""

    call: Callable[..., object]
    params: tuple[str, ...] = ()
    variadic: str | None = None


class Int64(int):
    """An ``int64``, as distinct from an ``int``."""

    __slots__ = ()


class JsonObject(dict[str, object]):
    """A JSON object decoded by ``fromJson``: a ``map[string]interface {}``, whose
    missing keys read as nil (a label map's read as ``""``)."""

    __slots__ = ()


def wrap_int64(value: int) -> Int64:
    """``value`` as Go's 64-bit two's-complement arithmetic leaves it."""
    return Int64((value + (1 << 63)) % (1 << 64) - (1 << 63))


def type_name(value: object) -> str:
    """The Go type of ``value``, as Go's error messages spell it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "int64"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, GoTime):
        return "time.Time"
    if isinstance(value, list):
        return "[]interface {}"
    if isinstance(value, JsonObject):
        return "map[string]interface {}"
    if isinstance(value, Mapping):
        return "map[string]string"
    return type(value).__name__


def truth(value: object) -> bool:
    """Go's ``template.IsTrue``: false for the zero value of its type, and for nil."""
    if value is None:
        return False
    if isinstance(value, GoTime):
        return True  # a struct is always true
    if isinstance(value, str | list | Mapping):
        return len(value) > 0
    return bool(value)


# cast's string form of an integer: a decimal part is dropped, not rounded ("3.9" is 3).
_DECIMAL_PART = re.compile(r"([-+]?[0-9]*)(\.[0-9]*)?")


def to_int64(value: object) -> int:
    """spf13/cast's ``ToInt64`` as sprig calls it: what cannot be read is 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not -(2.0**63) <= value < 2.0**63:  # NaN, infinities and overflow
            return -(1 << 63)  # what Go's conversion gives on amd64
        return int(value)
    if isinstance(value, str):
        text = value
        if "." in text:
            match = _DECIMAL_PART.fullmatch(text)
            if match:
                text = {"": "0", "-": "-0", "+": "+0"}.get(match.group(1), match.group(1))
        parsed = parse_int(text)
        return parsed if parsed is not None else 0
    return 0


def to_float64(value: object) -> float:
    """spf13/cast's ``ToFloat64``: what cannot be read is 0."""
    if isinstance(value, bool | int):
        return float(value)
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        if value in ("", "+", "-"):
            return 0.0
        parsed = parse_float(value)
        if parsed is None:
            lowered = value.lstrip("+-").lower()
            if lowered in ("inf", "infinity"):
                return float("-inf") if value.startswith("-") else float("inf")
            if lowered == "nan":
                return float("nan")
            return 0.0
        return parsed
    return 0.0


def _refuse_constant(name: str) -> object:
    raise ValueError(f"invalid JSON value {name}")


def decode_json(text: str) -> object:
    """``encoding/json``'s decoding into ``interface{}``: numbers are float64, objects
    :class:`JsonObject`; raises ``ValueError`` for what is not JSON."""
    return json.loads(
        text,
        object_pairs_hook=JsonObject,
        parse_int=float,
        parse_constant=_refuse_constant,
    )

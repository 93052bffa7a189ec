"""Reading a parsed YAML or JSON document strictly: every value with its path
(``spec.objectives[0].target``), so that a problem names the field it is in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from otelite.errors import InvalidRequest

__all__ = ["Field"]

MAX_TEXT = 1000


class Field:
    """A value in a parsed document, with its path for messages; each accessor checks
    the value's kind and raises ``InvalidRequest`` naming the path and the reason."""

    __slots__ = ("path", "value")

    def __init__(self, value: Any, path: str) -> None:
        self.value = value
        self.path = path

    def problem(self, reason: str) -> InvalidRequest:
        return InvalidRequest(f"{self.path or 'the document'}: {reason}")

    def mapping(self) -> Mapping[str, Any]:
        if not isinstance(self.value, Mapping):
            raise self.problem(f"must be a mapping, got {_kind(self.value)}")
        return self.value

    def known(self, *fields: str) -> None:
        unknown = sorted(str(key) for key in self.mapping() if key not in fields)
        if unknown:
            raise self._child(unknown[0]).problem(
                f"unknown field (expected one of {', '.join(fields)})"
            )

    def has(self, name: str) -> bool:
        return self.mapping().get(name) is not None

    def field(self, name: str) -> Field:
        if not self.has(name):
            raise self._child(name).problem("required")
        return self._child(name)

    def _child(self, name: str) -> Field:
        path = f"{self.path}.{name}" if self.path else name
        return Field(self.mapping().get(name), path)

    def items(self) -> list[Field]:
        if not isinstance(self.value, Sequence) or isinstance(self.value, str):
            raise self.problem(f"must be a list, got {_kind(self.value)}")
        return [Field(item, f"{self.path}[{n}]") for n, item in enumerate(self.value)]

    def text(self, limit: int = MAX_TEXT) -> str:
        if not isinstance(self.value, str) or not self.value.strip():
            raise self.problem(f"must be a non-empty string, got {_kind(self.value)}")
        if len(self.value) > limit:
            raise self.problem(f"at most {limit} characters, got {len(self.value)}")
        return self.value

    def optional_text(self, name: str, *, limit: int = MAX_TEXT) -> str | None:
        return self.field(name).text(limit) if self.has(name) else None

    def number(self) -> float:
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            raise self.problem(f"must be a number, got {_kind(self.value)}")
        return float(self.value)

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            raise self.problem(f"must be true or false, got {_kind(self.value)}")
        return self.value

    def json(self) -> Any:
        """The value as JSON holds it, to be kept and served back: keys become strings,
        YAML's dates ISO 8601 text, and an integer beyond 64 bits (which JSON readers
        cannot hold exactly) is refused by its path."""
        value = self.value
        if isinstance(value, Mapping):
            return {str(key): self._child(key).json() for key in value}
        if isinstance(value, list | tuple):
            return [item.json() for item in self.items()]
        if isinstance(value, bool) or value is None or isinstance(value, str | float):
            return value
        if isinstance(value, int):
            if not -(2**63) <= value < 2**64:
                raise self.problem("an integer beyond 64 bits; write it as a string")
            return value
        if isinstance(value, date | datetime):
            return value.isoformat()
        return str(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value[:60]) if value.strip() else "an empty string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__

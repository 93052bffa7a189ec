"""LogQL's JSON parser stages, ``json`` and ``unpack``, as Loki runs them
(``pkg/logql/log/parser.go``, ``jsonexpr``).

A line is read with Python's JSON decoder keeping numbers as written and every member of
an object in order (a repeated key: the first wins, as in Loki). ``| json`` flattens
nested objects into ``parent_child`` names and skips arrays and nulls; ``| json
a="x.y[0]"`` takes JSON paths; ``| unpack`` reads what Promtail's ``pack`` wrote. A line
that is not JSON gets ``__error__=JSONParserErr``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from otelite.errors import InvalidRequest
from otelite.query.logql._ast import Extraction, JsonParser
from otelite.query.logql._entries import EXTRACTED, Entries, EntryLabels
from otelite.query.logql._parsers import StageRun, claim, sanitize_key

__all__ = ["JSON_ERROR", "json_fields", "json_stage", "unpack_stage"]

JSON_ERROR = "JSONParserErr"
_NOT_OBJECT = "expecting json object(6), but it is not"
_ENTRY = "_entry"


class _Number(str):
    """A JSON number, kept as written."""


class _Object(list[tuple[str, Any]]):
    """A JSON object as its members in order, repeated keys included."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(
    object_pairs_hook=_Object,
    parse_float=_Number,
    parse_int=_Number,
    parse_constant=_refuse_constant,
)


def _load(line: str) -> Any:
    return _DECODER.decode(line)


def _scalar(value: Any) -> str | None:
    """A JSON value's text as a label; None for objects, arrays and null."""
    if isinstance(value, str):
        return str(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    return None


def _json_text(value: Any) -> str:
    """A value back as compact JSON."""
    if isinstance(value, _Number):
        return str(value)
    if isinstance(value, _Object):
        return "{" + ",".join(f"{_json_text(k)}:{_json_text(v)}" for k, v in value) + "}"
    if isinstance(value, list):
        return "[" + ",".join(map(_json_text, value)) + "]"
    return json.dumps(value, ensure_ascii=False)


def _flatten(
    labels: EntryLabels,
    members: _Object,
    prefix: list[str],
    paths: dict[str, tuple[str, ...]] | None = None,
) -> None:
    """Set the fields of ``members`` as labels; with ``paths``, note each one's JSON path
    (its keys as written)."""
    for key, value in members:
        if isinstance(value, _Object):
            _flatten(labels, value, [*prefix, key], paths)
            continue
        text = _scalar(value)
        if text is None:
            continue
        if prefix:
            parts = [*prefix, key]
            name = _joined(parts)
            if labels.clashes(name):
                name = _joined([*prefix, key + EXTRACTED])
        else:
            name = sanitize_key(key)
            if not name:
                continue
            if labels.clashes(name):
                name += EXTRACTED
        if name not in labels.extracted:
            labels.set_parsed(name, text)
            if paths is not None:
                paths[name] = (*prefix, key)


def _joined(parts: Sequence[str]) -> str:
    """Nested JSON keys as one label name, each part sanitised, joined with ``_``."""
    found = [
        sanitize_key(part, first=i == 0) for i, part in enumerate(p for p in parts if p.strip())
    ]
    return "_".join(found)


def json_stage(stage: JsonParser) -> StageRun:
    """``| json``: every field (nested keys joined with ``_``, arrays and nulls skipped),
    or the values of ``stage.extractions``' JSON paths."""
    if stage.extractions:
        return _json_paths(stage.extractions)

    def run(entries: Entries) -> Entries:
        for line, labels in zip(entries.lines, entries.labels, strict=True):
            members = _members(line)
            if isinstance(members, str):
                labels.set_error(JSON_ERROR, members)
                continue
            _flatten(labels, members, [])
        return entries

    return run


def json_fields(line: str, labels: EntryLabels) -> dict[str, tuple[str, ...]] | None:
    """``| json`` on one entry: its fields set as parsed labels, and the JSON path each
    came from (the keys as written); None, and nothing set, when the line is not a JSON
    object."""
    members = _members(line)
    if isinstance(members, str):
        return None
    paths: dict[str, tuple[str, ...]] = {}
    _flatten(labels, members, [], paths)
    return paths


def _members(line: str) -> _Object | str:
    """A line's JSON object, or why it is not one."""
    try:
        members = _load(line)
    except ValueError as error:
        return str(error)
    return members if isinstance(members, _Object) else _NOT_OBJECT


_PATH_TOKEN = re.compile(r'\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|"([^"\]]*)["\]]?|([.\[\]]))')


def _json_path(expression: str) -> list[str | int]:
    """A JSON path as Loki's ``jsonexpr`` grammar reads it: a field or a bracketed
    step, then fields after ``.`` and bracketed steps (``a.b[0]``, ``["a b"].c``)."""
    tokens: list[tuple[str, str]] = []
    at = 0
    while at < len(expression.rstrip()):
        match = _PATH_TOKEN.match(expression, at)
        if match is None:
            raise _path_error(expression)
        index, field, string, mark = match.groups()
        if index is not None:
            tokens.append(("index", index))
        elif field is not None:
            tokens.append(("field", field))
        elif string is not None:
            tokens.append(("string", string))
        else:
            tokens.append((mark, mark))
        at = match.end()
    steps: list[str | int] = []
    position = 0
    while position < len(tokens):
        kind, text = tokens[position]
        if kind == "field" and not steps:
            steps.append(text)
            position += 1
        elif kind == "." and steps and position + 1 < len(tokens):
            kind, text = tokens[position + 1]
            if kind != "field":
                raise _path_error(expression)
            steps.append(text)
            position += 2
        elif kind == "[" and position + 2 < len(tokens) and tokens[position + 2][0] == "]":
            kind, text = tokens[position + 1]
            if kind not in ("index", "string"):
                raise _path_error(expression)
            steps.append(int(text) if kind == "index" else text)
            position += 3
        else:
            raise _path_error(expression)
    if not steps:
        raise _path_error(expression)
    return steps


def _path_error(expression: str) -> InvalidRequest:
    return InvalidRequest(f"cannot parse expression [{expression}]: syntax error")


_MISSING = object()


def _walk(value: Any, path: list[str | int]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or isinstance(value, _Object) or step >= len(value):
                return _MISSING
            value = value[step]
        else:
            if not isinstance(value, _Object):
                return _MISSING
            value = next((v for k, v in value if k == step), _MISSING)
            if value is _MISSING:
                return _MISSING
    return value


def _json_paths(extractions: Sequence[Extraction]) -> StageRun:
    paths = [(e.label, _json_path(e.expression)) for e in extractions]

    def run(entries: Entries) -> Entries:
        for line, labels in zip(entries.lines, entries.labels, strict=True):
            if not line:
                continue
            if line[0] not in '"{[':
                labels.set_error(JSON_ERROR)
                continue
            try:
                document = _load(line)
            except ValueError as error:
                document = _MISSING
                labels.set_error(JSON_ERROR, str(error))
            for label, path in paths:
                value = _MISSING if document is _MISSING else _walk(document, path)
                if value is _MISSING:
                    if labels.get(label) is None:
                        labels.set_parsed(label, "")
                    continue
                name = label + EXTRACTED if labels.clashes(label) else label
                if value is None:
                    labels.set_parsed(name, "")
                elif isinstance(value, list):
                    labels.set_parsed(name, _json_text(value))
                else:
                    labels.set_parsed(name, _scalar(value) or "")
        return entries

    return run


def unpack_stage() -> StageRun:
    """``| unpack``: the string fields of a JSON object packed by Promtail's ``pack``
    stage become labels and ``_entry`` the line; an object without ``_entry`` is left."""

    def run(entries: Entries) -> Entries:
        lines = entries.lines
        for row, (line, labels) in enumerate(zip(lines, entries.labels, strict=True)):
            if not line:
                continue
            if line[0] != "{":
                labels.set_error(JSON_ERROR, _NOT_OBJECT)
                continue
            try:
                members = _load(line)
            except ValueError as error:
                labels.set_error(JSON_ERROR, str(error))
                continue
            found: list[tuple[str, str]] = []
            packed = None
            for key, value in members:
                if not isinstance(value, str) or isinstance(value, _Number):
                    continue
                if key == _ENTRY:
                    packed = str(value)
                    continue
                name = claim(labels, key)
                if name is not None:
                    found.append((sanitize_key(name), str(value)))
            if packed is not None:
                lines[row] = packed
                for name, value in found:
                    labels.set_parsed(name, value)
        return entries

    return run

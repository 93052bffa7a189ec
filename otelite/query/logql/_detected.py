"""What Loki detects for Grafana's Logs Drilldown: labels worth breaking logs down by
(``detected_labels``) and the fields in a sample of lines (``detected_fields``,
``detected_field/<name>/values``), as Loki's querier and query frontend compute them
(``pkg/querier/querier.go``, ``pkg/querier/queryrange/detected_fields.go``).

- **Labels**: the stream labels of the streams a selector picks, with how many values
  each takes; a label whose every value is an id (a number or a UUID; two values ``0``
  and ``1`` are a flag, not ids) is left out, unless it is one of ``cluster``,
  ``namespace``, ``instance`` and ``pod``.
- **Fields**: over the entries of a log query (a sample: the newest lines), each entry's
  structured metadata (``parsers`` None) and the labels its line gives as JSON, else as
  logfmt (``parsers`` ``["json"]`` or ``["logfmt"]``; a JSON field keeps its path),
  besides those the query's own parsers set. A field's type is Loki's detection on the
  value last seen, streams in order and newest entries first: ``int``, ``float``,
  ``boolean``, ``duration``, ``bytes`` or ``string``. A field's values are what the
  entries hold, byte sizes written as go-humanize writes them (``2KB`` → ``2.0kB``) so
  that a value can go back into a query.

Cardinalities are exact where Loki estimates them with HyperLogLog (equal for the small
counts it is used on).
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from otelite.query._durations import parse_go_duration
from otelite.query._plan import TimeRange
from otelite.query.logql._ast import LogfmtParser, Matcher
from otelite.query.logql._entries import ERROR, ERROR_DETAILS, Entries, EntryLabels, Labels
from otelite.query.logql._json_parsers import json_fields
from otelite.query.logql._label_set import format_labels
from otelite.query.logql._literals import parse_bytes, parse_integer, parse_number
from otelite.query.logql._parsers import logfmt_stage
from otelite.query.logql._streams import stream_sets
from otelite.storage import Storage

__all__ = [
    "STATIC_LABELS",
    "DetectedField",
    "DetectedLabel",
    "detected_field_values",
    "detected_fields",
    "detected_labels",
    "field_type",
]

STATIC_LABELS = frozenset({"cluster", "namespace", "instance", "pod"})
"""Labels Loki always detects, whatever their values look like."""
_FLAG_VALUES = frozenset({"0", "1"})
_BOOLS = frozenset(
    {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}
)
_SPECIAL_FLOATS = frozenset({"inf", "infinity", "nan"})
# Value endings that make a value a byte size for detected_field/<name>/values.
_BYTE_SUFFIXES: tuple[str, ...] = (
    *("b", "kib", "kb", "mib", "mb", "gib", "gb", "tib", "tb", "pib", "pb", "eib", "eb"),
    *("ki", "k", "mi", "m", "gi", "g", "ti", "t", "pi", "p", "ei", "e"),
)
_HUMANIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
_IGNORED = frozenset({ERROR, ERROR_DETAILS, "__preserve_error__"})
_LOGFMT = logfmt_stage(LogfmtParser())


@dataclass(frozen=True, slots=True)
class DetectedLabel:
    label: str
    cardinality: int


def detected_labels(
    storage: Storage, selector: Sequence[Matcher] | None, time: TimeRange
) -> list[DetectedLabel]:
    """The stream labels of the streams ``selector`` picks (all, without one) in
    ``time`` that are worth a breakdown, by name."""
    values: dict[str, set[str]] = defaultdict(set)
    for labels in stream_sets(storage, [] if selector is None else [selector], time):
        for name, value in labels:
            values[name].add(value)
    return [
        DetectedLabel(name, len(found))
        for name, found in sorted(values.items())
        if (name in STATIC_LABELS and found) or not _ids_only(found)
    ]


def _ids_only(values: set[str]) -> bool:
    """Whether a label's values are all ids (Loki's ``shouldRejectLabel``)."""
    if not values:
        return True
    if len(values) <= 2 and values <= _FLAG_VALUES:
        return False
    return all(_is_number(v) or _is_uuid(v) for v in values)


def _is_number(text: str) -> bool:
    """Whether Go's ``strconv.ParseFloat`` reads ``text`` (infinities and NaN too)."""
    unsigned = text[1:] if text[:1] in ("+", "-") else text
    if unsigned.lower() in _SPECIAL_FLOATS:
        return True
    try:
        parse_number(unsigned)
    except ValueError:
        return False
    return True


def _is_uuid(text: str) -> bool:
    if len(text) not in (32, 36, 38, 45):  # bare, hyphenated, {braced}, urn:uuid:
        return False
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def field_type(value: str) -> str:
    """The type Loki detects for a field's value: the first of ``int``, ``float``,
    ``boolean``, ``duration`` and ``bytes`` that reads it, else ``string``."""
    if parse_integer(value) is not None:
        return "int"
    if _is_number(value):
        return "float"
    if value in _BOOLS:
        return "boolean"
    if parse_go_duration(value) is not None:
        return "duration"
    if parse_bytes(value) is not None:
        return "bytes"
    return "string"


@dataclass(frozen=True, slots=True)
class DetectedField:
    """A field of the sampled entries."""

    label: str
    type: str
    cardinality: int
    parsers: tuple[str, ...] | None
    """The parsers that gave the field; None for structured metadata only."""
    json_path: tuple[str, ...] | None = None
    """The keys of the JSON field it came from, as written."""


@dataclass(slots=True)
class _Field:
    values: set[str] = field(default_factory=set)
    type: str = "string"
    parsers: list[str] = field(default_factory=list)
    json_path: tuple[str, ...] | None = None

    def add(self, values: Sequence[str]) -> None:
        if values:
            self.type = field_type(values[0])
        self.values.update(values)


def detected_fields(entries: Entries, *, limit: int) -> list[DetectedField]:
    """The fields of ``entries`` (a log query's, newest first), the first ``limit``
    found, by name."""
    fields: dict[str, _Field] = {}

    def known(name: str) -> _Field | None:
        found = fields.get(name)
        if found is None and len(fields) < limit:
            found = fields[name] = _Field()
        return found

    for metadata, parsed, parsers, paths in _entry_fields(entries):
        for name, values in metadata.items():
            if (metadata_field := known(name)) is not None:
                metadata_field.add(values)
        for name, values in parsed.items():
            parsed_field = known(name)
            if parsed_field is None:
                continue
            parsed_field.parsers += [p for p in parsers if p not in parsed_field.parsers]
            if name in paths:
                parsed_field.json_path = paths[name]
            parsed_field.add(values)
    return [
        DetectedField(name, f.type, len(f.values), tuple(f.parsers) or None, f.json_path)
        for name, f in sorted(fields.items())
    ]


def detected_field_values(entries: Entries, name: str, *, limit: int) -> list[str]:
    """The values field ``name`` takes in ``entries`` (once each, sorted), those of the
    entries read before ``limit`` were found."""
    found: set[str] = set()
    for metadata, parsed, _, _ in _entry_fields(entries):
        if len(found) >= limit:
            break
        found.update(metadata.get(name, ()))
        found.update(_as_bytes(value) for value in parsed.get(name, ()))
    return sorted(found)


_Fields = Mapping[str, Sequence[str]]


def _entry_fields(
    entries: Entries,
) -> Iterator[tuple[_Fields, _Fields, tuple[str, ...], Mapping[str, tuple[str, ...]]]]:
    """Per entry, in the order Loki reads a query's answer (streams by their labels,
    then as read): its structured metadata, the labels the query and its line give,
    the parser that read its line, and the JSON paths of the labels that came from JSON."""
    order = sorted(range(len(entries)), key=lambda i: _stream_key(entries.labels[i]))
    for i in order:
        stream, metadata, parsed = entries.labels[i].categorized()
        line_labels = EntryLabels(dict(stream), {})
        paths = json_fields(entries.lines[i], line_labels)
        parsers: tuple[str, ...] = ("json",)
        if paths is None:
            paths, parsers = {}, ("logfmt",)
            _LOGFMT(Entries([entries.times[i]], [entries.lines[i]], [line_labels]))
        values: dict[str, list[str]] = defaultdict(list)
        for name, value in (*parsed, *line_labels.parsed.items()):
            if name not in _IGNORED and value not in values[name]:
                values[name].append(value)
        yield {n: [v] for n, v in metadata}, values, parsers, paths


def _stream_key(labels: EntryLabels) -> str:
    stream: Labels = labels.categorized()[0]
    return format_labels(stream)


def _as_bytes(value: str) -> str:
    """A parsed value that is a byte size, as go-humanize writes it without the space."""
    size = parse_bytes(value)
    if size is None or not value.lower().endswith(_BYTE_SUFFIXES):
        return value
    return humanize_bytes(size).replace(" ", "", 1)


def humanize_bytes(size: int) -> str:
    """A byte size as go-humanize's ``Bytes`` writes it (``2.0 kB``, ``15 MB``, ``7 B``)."""
    if size < 10:
        return f"{size} B"
    exponent = math.floor(math.log(size) / math.log(1000))
    value = math.floor(size / 1000**exponent * 10 + 0.5) / 10
    return f"{value:.{1 if value < 10 else 0}f} {_HUMANIZE_UNITS[exponent]}"

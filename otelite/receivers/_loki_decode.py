"""Loki push bodies → OTLP logs: the JSON form and the snappy-compressed protobuf form
(``logproto.PushRequest``) of ``POST /loki/api/v1/push``, read as Loki reads them
(``pkg/loghttp/push/push.go``, ``pkg/loghttp/entry.go``).

Each stream becomes one resource whose attributes are the stream's labels under their
own names, plus ``service.name``: the stream's ``service_name`` as Loki finds it (the
``service_name`` label, else the first of Loki's service-discovery labels such as
``service``, ``app``, ``job``, else ``unknown_service``), so that otelite's own log search
and ``otelite export`` show the service Grafana shows. Its one scope is ``PUSH_SCOPE``,
which tells the query side that these labels are a pushed stream's. Each entry becomes a
log record:

* ``time_unix_nano`` the entry's timestamp (0, as in OTLP, is no time: the time of
  receipt stands in), ``observed_time_unix_nano`` the time of receipt, the body the line
  as a string;
* the attributes its structured metadata, string values as sent;
* ``severity_text`` the value of the first level field among the entry's metadata, then
  the stream's labels (``level``, ``severity``, ``lvl`` and the other names Loki reads a
  level from, then ``detected_level``), and ``severity_number`` that level's number
  (``warn`` → WARN = 13, ``critical`` → FATAL = 21), 0 for a word that is no level;
* ``trace_id`` and ``span_id`` from metadata of those names when they are ids in hex, so
  that a pushed line links to its trace (the metadata stays as sent).

Everything is decoded before anything is handed on, so a body that fails anywhere is
refused whole: :class:`InvalidRequest` naming where (``streams[2].values[0][0]``) and
what was expected. A stream with no entries adds nothing; a stream whose labels are all
empty is refused, as Loki refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import cramjam
import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, SeverityNumber

from otelite.errors import InvalidRequest
from otelite.query import parse_severity
from otelite.query.logql import (
    DETECTED_LEVEL,
    LEVEL_FIELDS,
    PUSH_SCOPE,
    SERVICE_NAME,
    ParseError,
    detected_level,
    is_label_name,
    parse_labels,
    stream_labels,
)
from otelite.receivers._body import too_large
from otelite.receivers._logproto import PushRequest
from otelite.types import ExportLogsServiceRequest

__all__ = ["decode_push"]

_SERVICE_ATTRIBUTE = "service.name"
_LEVEL_NAMES = (*LEVEL_FIELDS, DETECTED_LEVEL)
_TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")
_SPAN_ID = re.compile(r"[0-9a-fA-F]{16}")
# Up to 19 digits: every such number fits the unsigned 64 bits of time_unix_nano; the
# time window then refuses what is too far ahead.
_NANOSECONDS = re.compile(r"[0-9]{1,19}")
_MAX_NANOSECONDS = 10**19
_ENTRY = (
    'an entry is ["<unix epoch in nanoseconds>", "<log line>"], with an optional third '
    "element, an object of structured metadata"
)

Entry = tuple[int, str, dict[str, str]]
"""An entry as pushed: its time in Unix nanoseconds, its line, its structured metadata."""
Stream = tuple[dict[str, str], Iterable[Entry]]
"""A stream as pushed: its labels (none empty), and its entries."""


def decode_push(
    body: bytes, *, json: bool, max_bytes: int, received_ns: int
) -> ExportLogsServiceRequest:
    """The OTLP logs request that a Loki push body stands for (see the module docstring).

    ``json`` tells the JSON form from snappy-compressed protobuf; ``max_bytes`` bounds the
    protobuf after decompression (:class:`RequestTooLarge`, told by snappy's header before
    anything is inflated); ``received_ns`` becomes each record's observed time.
    """
    streams = _json_streams(body) if json else _protobuf_streams(_unsnappy(body, max_bytes))
    return _otlp(streams, received_ns)


def _otlp(streams: Iterable[Stream], received_ns: int) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    severities: dict[str, SeverityNumber.ValueType] = {}
    for i, (labels, entries) in enumerate(streams):
        if not labels:
            raise InvalidRequest(
                f"streams[{i}]: the stream has no labels; every stream needs at least one "
                'label with a value, such as {job="app"}'
            )
        resource_logs = request.resource_logs.add()
        attributes = resource_logs.resource.attributes
        for name, value in sorted(labels.items()):
            attributes.add(key=name).value.string_value = value
        service = stream_labels(labels, PUSH_SCOPE)[SERVICE_NAME]
        attributes.add(key=_SERVICE_ATTRIBUTE).value.string_value = service
        scope_logs = resource_logs.scope_logs.add()
        scope_logs.scope.name = PUSH_SCOPE
        records = scope_logs.log_records
        stream_level = _level(labels)
        for time_ns, line, metadata in entries:
            record = records.add(time_unix_nano=time_ns, observed_time_unix_nano=received_ns)
            record.body.string_value = line
            level = stream_level
            if metadata:
                for key, value in metadata.items():
                    record.attributes.add(key=key).value.string_value = value
                level = _level(metadata) or stream_level
                _trace_context(record, metadata)
            if level:
                record.severity_text = level
                number = severities.get(level)
                if number is None:
                    number = severities[level] = _severity_number(level)
                record.severity_number = number
        if not records:
            del request.resource_logs[-1]
    return request


def _level(fields: Mapping[str, str]) -> str:
    return next((fields[name] for name in _LEVEL_NAMES if fields.get(name)), "")


def _severity_number(level: str) -> SeverityNumber.ValueType:
    word = detected_level(level, 0, {}, "")
    try:
        number = 0 if word.isdigit() else parse_severity(word)
    except ValueError:
        number = 0
    return SeverityNumber.ValueType(number)


def _trace_context(record: LogRecord, metadata: Mapping[str, str]) -> None:
    trace_id, span_id = metadata.get("trace_id", ""), metadata.get("span_id", "")
    if _TRACE_ID.fullmatch(trace_id):
        record.trace_id = bytes.fromhex(trace_id)
    if _SPAN_ID.fullmatch(span_id):
        record.span_id = bytes.fromhex(span_id)


# JSON -------------------------------------------------------------------------------------


def _json_streams(body: bytes) -> Iterator[Stream]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise InvalidRequest(f"the body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise InvalidRequest('the body must be a JSON object: {"streams": [...]}')
    streams = _list(data.get("streams"), "streams", "a list of streams")
    for i, stream in enumerate(streams):
        where = f"streams[{i}]"
        if not isinstance(stream, dict):
            raise InvalidRequest(
                f'{where}: a stream is an object: {{"stream": {{labels}}, "values": [entries]}}'
            )
        labels = _strings(stream.get("stream"), f"{where}.stream", "labels")
        for name in labels:
            if not is_label_name(name):
                raise InvalidRequest(
                    f"{where}.stream: {name!r} is not a label name: a label name is letters, "
                    "digits and underscores, not starting with a digit"
                )
        values = _list(stream.get("values"), f"{where}.values", "a list of entries")
        entries = [_json_entry(value, f"{where}.values[{k}]") for k, value in enumerate(values)]
        yield {name: value for name, value in labels.items() if value}, entries


def _list(value: Any, where: str, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest(f"{where}: expected {what}, got {_json_type(value)}")
    return value


def _strings(value: Any, where: str, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest(f"{where}: expected an object of {what}, got {_json_type(value)}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise InvalidRequest(
                f"{where}: the value of {key!r} is {_json_type(item)}; {what} take string values"
            )
    return value


def _json_entry(value: Any, where: str) -> Entry:
    if not isinstance(value, list) or not 2 <= len(value) <= 3:
        raise InvalidRequest(f"{where}: {_ENTRY}")
    stamp, line = value[0], value[1]
    if isinstance(stamp, str) and _NANOSECONDS.fullmatch(stamp):
        time_ns = int(stamp)
    elif type(stamp) is int and 0 <= stamp < _MAX_NANOSECONDS:
        time_ns = stamp
    else:
        raise InvalidRequest(
            f"{where}[0]: the timestamp {orjson.dumps(stamp).decode()[:60]} is not a whole "
            'number of nanoseconds since the Unix epoch, such as "1700000000000000000"'
        )
    if not isinstance(line, str):
        raise InvalidRequest(f"{where}[1]: the log line is {_json_type(line)}, not a string")
    metadata = _strings(value[2], f"{where}[2]", "structured metadata") if len(value) == 3 else {}
    return time_ns, line, metadata


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


# Protobuf ---------------------------------------------------------------------------------


def _unsnappy(body: bytes, max_bytes: int) -> bytes:
    """The body uncompressed from snappy's block format, which Loki's clients send."""
    try:
        if cramjam.snappy.decompress_raw_len(body) > max_bytes:
            raise too_large(max_bytes)
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as error:
        raise InvalidRequest(
            f"the body is not snappy-compressed protobuf ({error}); Loki's push API takes "
            "a logproto.PushRequest compressed with snappy's block format, or JSON with "
            "Content-Type: application/json"
        ) from None


def _protobuf_streams(data: bytes) -> Iterator[Stream]:
    try:
        request: Any = PushRequest.FromString(data)
    except DecodeError as error:
        raise InvalidRequest(f"the body is not a logproto.PushRequest: {error}") from None
    for i, stream in enumerate(request.streams):
        try:
            labels = parse_labels(stream.labels)
        except ParseError as error:
            raise InvalidRequest(f"streams[{i}].labels {stream.labels[:200]!r}: {error}") from None
        entries = [
            _protobuf_entry(entry, f"streams[{i}].entries[{k}]")
            for k, entry in enumerate(stream.entries)
        ]
        yield labels, entries


def _protobuf_entry(entry: Any, where: str) -> Entry:
    seconds, nanos = entry.timestamp.seconds, entry.timestamp.nanos
    time_ns = seconds * 1_000_000_000 + nanos
    if not 0 <= nanos < 1_000_000_000 or not 0 <= time_ns < _MAX_NANOSECONDS:
        raise InvalidRequest(
            f"{where}.timestamp: seconds {seconds} and nanos {nanos} are not a time from "
            "1970 on (nanos are 0 to 999,999,999)"
        )
    metadata = {pair.name: pair.value for pair in entry.structuredMetadata}
    return time_ns, entry.line, metadata

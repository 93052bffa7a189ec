"""Cutting records down to the configured limits, the way OpenTelemetry SDKs do, and the
window of times a record may carry.

Nothing here rejects a record. Attributes past ``max_attributes`` (on a resource, scope,
span, event, link or log record) are removed and added to that item's
``dropped_attributes_count``; events and links past their per-span limits likewise, into
``dropped_events_count`` and ``dropped_links_count``. String values longer than
``max_attribute_value_length`` characters, and bytes values longer than that many bytes,
are truncated, inside arrays and key-value lists too. Every cut is counted and described,
so that the partial-success message can tell the sender what changed.

Data point attributes are never cut: they identify a time series, and cutting them
would merge series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from otelite.config import Limits

__all__ = ["INT64_MAX", "Cuts", "TimeWindow", "Trimmer", "int64_problem", "records_fit"]

INT64_MAX = 2**63 - 1
"""The latest time storage holds, in nanoseconds since the epoch (in the year 2262)."""
_UINT32_MAX = 2**32 - 1
# Stands for "no limit": larger than any repeated field or value can be.
_UNLIMITED = 2**62


@dataclass(slots=True)
class Cuts:
    """How much the limits cut from one request."""

    dropped_attributes: int = 0
    dropped_events: int = 0
    dropped_links: int = 0
    truncated_values: int = 0


class Trimmer:
    """Applies the limits to the items of one request, appending a note per cut to ``notes``.

    ``max_attributes`` and ``size_bound`` are public so that callers can skip items that
    are within the limits without a call: an item whose encoded size is at most
    ``size_bound`` bytes cannot hold a value over the length limit (a character takes at
    least one byte in UTF-8, in protobuf and in JSON), so its values need no look. Measuring
    an item costs about as much as serializing it, so when the whole request is known to
    be small enough (``encoded_size``), or its binary protobuf ``body`` shows that every
    resource, scope and record in it is (``records_fit``), the bound is lifted and nothing
    is measured.
    """

    def __init__(
        self,
        limits: Limits,
        notes: list[str],
        *,
        encoded_size: int | None = None,
        body: bytes | None = None,
    ) -> None:
        self.max_attributes = _or_unlimited(limits.max_attributes)
        self._max_events = _or_unlimited(limits.max_events_per_span)
        self._max_links = _or_unlimited(limits.max_links_per_span)
        self._max_length = _or_unlimited(limits.max_attribute_value_length)
        if body is not None:
            encoded_size = len(body)
        small = encoded_size is not None and encoded_size <= self._max_length
        if not small and body is not None and self._max_length < _UNLIMITED:
            small = records_fit(body, self._max_length)
        self.size_bound = _UNLIMITED if small else self._max_length
        self.measure = self.size_bound < _UNLIMITED
        """Whether items must be measured at all."""
        self.cuts = Cuts()
        self._notes = notes

    def span(self, span: Span, where: str) -> None:
        """Cut one span, with its events and links, to the limits."""
        self.attributes(span, where)
        self.cuts.dropped_events += self._cut(span, "events", self._max_events, where)
        for e, event in enumerate(span.events):
            self.attributes(event, f"{where}.events[{e}]")
        self.cuts.dropped_links += self._cut(span, "links", self._max_links, where)
        for n, link in enumerate(span.links):
            self.attributes(link, f"{where}.links[{n}]")

    def _cut(self, span: Span, kind: str, limit: int, where: str) -> int:
        """Drop the span's ``kind`` (events or links) beyond ``limit``, counting them in
        its ``dropped_<kind>_count`` and in a note; returns how many went."""
        items = getattr(span, kind)
        extra = len(items) - limit
        if extra <= 0:
            return 0
        del items[limit:]
        counter = f"dropped_{kind}_count"
        setattr(span, counter, min(getattr(span, counter) + extra, _UINT32_MAX))
        self._notes.append(
            f"{where}: {extra} of {extra + limit} {kind} dropped "
            f"(limit max_{kind}_per_span={limit})"
        )
        return extra

    def attributes(self, owner: Any, where: str) -> None:
        """Cut the ``attributes`` of ``owner`` (anything with ``dropped_attributes_count``)."""
        attributes = owner.attributes
        extra = len(attributes) - self.max_attributes
        if extra > 0:
            del attributes[self.max_attributes :]
            owner.dropped_attributes_count = min(
                owner.dropped_attributes_count + extra, _UINT32_MAX
            )
            self.cuts.dropped_attributes += extra
            self._notes.append(
                f"{where}: {extra} of {extra + self.max_attributes} attributes dropped "
                f"(limit max_attributes={self.max_attributes})"
            )
        if not self.measure or owner.ByteSize() <= self.size_bound:
            return
        for a, kv in enumerate(attributes):
            self._value(kv.value, f"{where}.attributes[{a}] {kv.key[:64]!r}")

    def _value(self, value: AnyValue, where: str) -> None:
        # Nesting is bounded by the decoders (100 nested messages), so recursion is safe.
        kind = value.WhichOneof("value")
        if kind == "string_value":
            length = len(value.string_value)
            if length > self._max_length:
                value.string_value = value.string_value[: self._max_length]
                self._truncated(where, f"string of {length} characters")
        elif kind == "bytes_value":
            length = len(value.bytes_value)
            if length > self._max_length:
                value.bytes_value = value.bytes_value[: self._max_length]
                self._truncated(where, f"bytes value of {length} bytes")
        elif kind == "array_value":
            for i, item in enumerate(value.array_value.values):
                self._value(item, f"{where}[{i}]")
        elif kind == "kvlist_value":
            for kv in value.kvlist_value.values:
                self._value(kv.value, f"{where}.{kv.key[:64]!r}")

    def _truncated(self, where: str, what: str) -> None:
        self.cuts.truncated_values += 1
        self._notes.append(
            f"{where}: {what} truncated to {self._max_length} "
            f"(limit max_attribute_value_length={self._max_length})"
        )


def records_fit(body: bytes, bound: int) -> bool:
    """Whether every resource, scope and record of an export request encodes to at most
    ``bound`` bytes, read from the length prefixes of its binary protobuf ``body``.

    Every attribute value lies inside one of these, so when they fit, no value is longer
    than ``bound``: reading a few bytes per record finds that far faster than measuring
    each decoded record. The three request types share the layout this relies on: the
    request's field 1 holds resource envelopes, whose field 2 holds scope envelopes, whose
    fields hold the scope and the records. False when unsure: a record over ``bound``, or
    a form this quick reading does not follow (groups, a malformed body).
    """
    try:
        return _fields_fit(body, 0, len(body), 0, bound)
    except IndexError:
        return False


# Protobuf wire types; the other two (groups) are not followed.
_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


def _fields_fit(buf: bytes, pos: int, end: int, depth: int, bound: int) -> bool:
    """Whether the length-delimited fields of the message in ``buf[pos:end]`` fit, at
    ``depth`` 0 (the request), 1 (a resource envelope) or 2 (a scope envelope)."""
    while pos < end:
        tag, pos = _varint(buf, pos)
        kind = tag & 7
        if kind == _LEN:
            size, pos = _varint(buf, pos)
            if depth == 0 and tag >> 3 == 1:
                fits = _fields_fit(buf, pos, pos + size, 1, bound)
            elif depth == 1 and tag >> 3 == 2:
                fits = _scope_fits(buf, pos, pos + size, bound)
            else:
                fits = size <= bound
            if not fits:
                return False
            pos += size
        elif kind == _VARINT:
            pos = _varint(buf, pos)[1]
        elif kind == _I64:
            pos += 8
        elif kind == _I32:
            pos += 4
        else:
            return False
    return pos == end


def _scope_fits(buf: bytes, pos: int, end: int, bound: int) -> bool:
    # The hot loop, one turn per record: the common field (a one-byte tag, a length of
    # one or two bytes) is read inline; anything else goes the general way from there.
    while pos < end:
        tag = buf[pos]
        if tag & 0x87 == _LEN:
            size = buf[pos + 1]
            if size < 0x80:
                pos += 2
            else:
                high = buf[pos + 2]
                if high >= 0x80:
                    return _fields_fit(buf, pos, end, 2, bound)
                size = (size & 0x7F) | high << 7
                pos += 3
            if size > bound:
                return False
            pos += size
        else:
            return _fields_fit(buf, pos, end, 2, bound)
    return pos == end


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _or_unlimited(limit: int | None) -> int:
    return _UNLIMITED if limit is None else limit


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The times a record's own timestamp may take, in nanoseconds since the epoch."""

    earliest: int
    latest: int
    now: int
    limits: Limits

    @classmethod
    def of(cls, limits: Limits, now: int) -> TimeWindow:
        """The window ``limits`` allow around ``now`` (nanoseconds since the epoch)."""
        future, past = limits.max_future_seconds, limits.max_past_seconds
        latest = INT64_MAX if future is None else min(INT64_MAX, now + int(future * 1e9))
        earliest = 0 if past is None else max(0, now - int(past * 1e9))
        return cls(earliest, latest, now, limits)

    def problem(self, field: str, value: int) -> str | None:
        """Why ``value`` is outside the window, or None."""
        if value > INT64_MAX:
            return int64_problem(field, value)
        if value > self.latest:
            return (
                f"{field} {value} ({_iso(value)}) is {_span_of(value - self.now)} ahead of "
                f"the server clock (limit max_future_seconds={self.limits.max_future_seconds:g})"
            )
        if value < self.earliest:
            return (
                f"{field} {value} ({_iso(value)}) is {_span_of(self.now - value)} behind "
                f"the server clock (limit max_past_seconds={self.limits.max_past_seconds:g})"
            )
        return None


def int64_problem(field: str, value: int) -> str:
    """Why ``value`` of ``field`` cannot be stored: it is past the signed 64-bit range."""
    return (
        f"{field} {value} is beyond the signed 64-bit nanosecond range otelite stores "
        f"(max {INT64_MAX}, in the year 2262)"
    )


def _iso(nanos: int) -> str:
    return datetime.fromtimestamp(nanos // 10**9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _span_of(nanos: int) -> str:
    """A rough human length of time: ``3.2 days``, ``5 hours``, ``40 minutes``."""
    seconds = nanos / 1e9
    for unit, size in (("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.1f} seconds"

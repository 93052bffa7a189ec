"""One trace while it is being simulated: spans and log records in relative time.

The flows create spans before they know how long they take, so a span stays a small
mutable record until ``encode`` turns every record into OTLP bytes at a base time.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from otelite.demo import _wire
from otelite.demo._semconv import Template
from otelite.demo._topology import Instance

__all__ = ["Emit", "SpanRecord", "TraceBuilder"]

Emit = Callable[[Instance, bytes], None]
"""Receives one encoded record (a ``spans``/``log_records`` field) and its instance."""


class SpanRecord:
    """A span under construction; times are nanoseconds from the start of the trace."""

    __slots__ = ("end", "events", "extra", "instance", "parent_id", "span_id", "start", "template")

    def __init__(
        self, instance: Instance, template: Template, span_id: bytes, parent_id: bytes, start: int
    ) -> None:
        self.instance = instance
        self.template = template
        self.span_id = span_id
        self.parent_id = parent_id
        self.start = start
        self.end = start
        self.extra: list[bytes] = []
        self.events: list[tuple[int, bytes]] = []


class TraceBuilder:
    """The spans and log records of one trace, with ids drawn from ``rng``."""

    __slots__ = ("_rng", "logs", "record_logs", "spans", "trace_id")

    def __init__(self, rng: random.Random, *, record_logs: bool) -> None:
        self._rng = rng
        self.trace_id = (rng.getrandbits(128) or 1).to_bytes(16, "big")
        self.spans: list[SpanRecord] = []
        self.logs: list[tuple[SpanRecord, int, bytes, str | None]] = []
        self.record_logs = record_logs

    def span(
        self, instance: Instance, template: Template, parent: SpanRecord | None, start: int
    ) -> SpanRecord:
        """A new span of ``instance``, child of ``parent`` (None: the trace's root)."""
        span_id = (self._rng.getrandbits(64) or 1).to_bytes(8, "big")
        record = SpanRecord(
            instance, template, span_id, b"" if parent is None else parent.span_id, start
        )
        self.spans.append(record)
        return record

    def log(self, span: SpanRecord, time: int, template: bytes, body: str | None = None) -> None:
        """A log record written by ``span``'s instance while ``span`` was current."""
        if self.record_logs:
            self.logs.append((span, time, template, body))

    def encode(self, base: int, emit_span: Emit | None, emit_log: Emit | None) -> None:
        """Hand every span and log record, at absolute times from ``base``, to the emitters."""
        trace_id = self.trace_id
        if emit_span is not None:
            header = _wire.span_header
            for s in self.spans:
                body = header(trace_id, s.span_id, s.parent_id, base + s.start, base + s.end)
                body += s.template.static
                if s.extra:
                    body += b"".join(s.extra)
                for time, static in s.events:
                    body += _wire.event(base + time, static)
                emit_span(s.instance, _wire.field(0x12, body))
        if emit_log is not None:
            for span, time, template, text in self.logs:
                body = _wire.log_header(base + time, trace_id, span.span_id) + template
                if text is not None:
                    body += _wire.field(_wire.LOG_BODY, _wire.string_value(text))
                emit_log(span.instance, _wire.field(0x12, body))

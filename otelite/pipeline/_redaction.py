"""Redaction: secrets and personal data taken out of telemetry before it is stored.

A processor of the pipeline file (``processors.redaction``), applied to every request
after validation and before the write-ahead log, so that nothing redacted ever reaches
the disk. It walks every attribute: of resources and scopes, spans, span events and
links, log records (and log bodies: strings, and the keys and strings of maps and lists
in them) and metric data points::

    redaction:
      allow_keys: [http.route, http.request.method]   # optional: the only keys kept
      ignore_keys: [service.name]                      # never redacted
      rules:
        - keys: [password, http.request.header.authorization]
          key_pattern: (?i)secret|token                # and/or a regular expression
          action: delete                               # delete | mask | hash
        - values: [credit_card, email, bearer_token]   # presets, see PRESETS
          value_pattern: 'acct-\\d{6}'                  # and/or a regular expression
          action: mask                                 # delete | mask | hash
      hash_key_env: OTELITE_REDACTION_KEY              # required when a rule hashes
      summary: info                                    # info | debug | silent

An attribute whose key is in ``ignore_keys`` is left alone. With ``allow_keys`` (the
allow-list mode), an attribute of a record whose key is not listed is deleted
(``service.name`` is always kept: otelite needs it). Then the first rule whose ``keys``
or ``key_pattern`` match the key applies to the whole attribute: ``delete`` removes it,
``mask`` replaces its value with ``****``, ``hash`` with the keyed hash (HMAC-SHA256,
the first 32 hex digits) of its text, so that equal values stay equal. Otherwise each
value rule applies to the parts of string values it matches: ``mask`` and ``hash``
replace each match, ``delete`` removes the attribute.

What was done is counted (``counts``, for otelite's metrics) and marked on the record,
as the OpenTelemetry Collector's redaction processor marks it: ``redaction.redacted.count``
(deleted), ``redaction.masked.count`` and ``redaction.hashed.count``, and with
``summary: debug`` also ``redaction.redacted.keys`` and the others, the keys joined by
commas. Events and links count toward their span.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
from collections import Counter
from collections.abc import Callable, MutableSequence
from dataclasses import dataclass, field

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otelite.otlp import any_value_plain
from otelite.pipeline._pipeline_file import Node
from otelite.pipeline._prefilter import Scan, scan_for
from otelite.types import (
    ExportLogsServiceRequest,
    ExportMetricsServiceRequest,
    ExportRequest,
    ExportTraceServiceRequest,
)

__all__ = ["ACTIONS", "PRESETS", "RedactionRules"]

ACTIONS = ("delete", "mask", "hash")
MASK = "****"
ALWAYS_KEPT = frozenset({"service.name"})
PRESETS: dict[str, str] = {
    # 13 to 19 digits, in groups apart by spaces or dashes; a Luhn check follows.
    "credit_card": r"\b\d(?:[ -]?\d){12,18}\b",
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b",
    "bearer_token": r"(?i:\bbearer\s+[A-Za-z0-9._~+/-]+=*)",
    "jwt": r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*",
    "aws_access_key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "us_ssn": r"\b\d{3}-\d{2}-\d{4}\b",
    "ipv4": r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b",
}
"""Named value patterns; ``credit_card`` matches only numbers that pass the Luhn check."""
_SUMMARIES = ("info", "debug", "silent")
_KEEP = "keep"
_VALUES = "values"
_CACHED = 50_000
"""The most keys, and values, whose outcome is remembered (then no more are)."""
_CACHED_TEXT = 256
_Done = tuple[str, str]
_NOTHING: tuple[str, bool, tuple[str, ...]] = ("", False, ())
"""The remembered outcome of a value that no rule matches."""
_PREFIX = "redaction."


@dataclass(frozen=True, slots=True)
class _KeyRule:
    keys: frozenset[str]
    pattern: re.Pattern[str] | None
    action: str

    def matches(self, key: str) -> bool:
        return key in self.keys or (self.pattern is not None and bool(self.pattern.search(key)))


@dataclass(frozen=True, slots=True)
class _ValueRule:
    pattern: re.Pattern[str]
    luhn: bool
    action: str


@dataclass(frozen=True, slots=True)
class RedactionRules:
    """The checked ``processors.redaction`` section, ready to run (``apply``)."""

    key_rules: tuple[_KeyRule, ...]
    value_rules: tuple[_ValueRule, ...]
    allow_keys: frozenset[str] | None
    ignore_keys: frozenset[str]
    hash_key: bytes | None
    summary: str
    scan: Scan | None
    """The first look at a request's bytes (None: every request is walked)."""
    counts: Counter[str] = field(default_factory=Counter, compare=False)
    """Attributes (and log bodies) deleted, masked and hashed, by action."""
    _decisions: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    _nested: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    _values: dict[str, tuple[str, bool, tuple[str, ...]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def _any_value(self) -> re.Pattern[str] | None:
        return _combined(self.value_rules)

    @classmethod
    def parse(cls, node: Node) -> RedactionRules:
        """The rules of a ``redaction`` section; ``PipelineFileError`` naming the line."""
        section = node.mapping("allow_keys", "ignore_keys", "rules", "hash_key_env", "summary")
        allow = frozenset(section["allow_keys"].texts()) if "allow_keys" in section else None
        ignore = (
            frozenset(section["ignore_keys"].texts()) if "ignore_keys" in section else frozenset()
        )
        summary = section["summary"].choice(*_SUMMARIES) if "summary" in section else "info"
        key_rules: list[_KeyRule] = []
        value_rules: list[_ValueRule] = []
        hashing: Node | None = None
        rules = section["rules"].items() if "rules" in section else []
        for rule in rules:
            entries = rule.mapping("keys", "key_pattern", "values", "value_pattern", "action")
            if "action" not in entries:
                raise rule.problem(f"action: required (one of {', '.join(ACTIONS)})")
            action = entries["action"].choice(*ACTIONS)
            if action == "hash":
                hashing = hashing or entries["action"]
            by_key = "keys" in entries or "key_pattern" in entries
            by_value = "values" in entries or "value_pattern" in entries
            if by_key == by_value:
                raise rule.problem(
                    "give keys or key_pattern, or values or value_pattern (not both)"
                )
            if by_key:
                keys = frozenset(entries["keys"].texts()) if "keys" in entries else frozenset()
                pattern = (
                    entries["key_pattern"].pattern(re.ASCII) if "key_pattern" in entries else None
                )
                key_rules.append(_KeyRule(keys, pattern, action))
                continue
            for name in entries["values"].texts() if "values" in entries else []:
                if name not in PRESETS:
                    raise entries["values"].problem(
                        f"{name!r} is not a preset (one of {', '.join(PRESETS)})"
                    )
                value_rules.append(
                    _ValueRule(re.compile(PRESETS[name], re.ASCII), name == "credit_card", action)
                )
            if "value_pattern" in entries:
                found = entries["value_pattern"].pattern(re.ASCII)
                if found.search(""):
                    raise entries["value_pattern"].problem("matches an empty string")
                value_rules.append(_ValueRule(found, False, action))
        if allow is None and not key_rules and not value_rules:
            raise node.problem("give rules, or allow_keys for the allow-list mode")
        hash_key = None
        if hashing is not None:
            if "hash_key_env" not in section:
                raise hashing.problem("hash needs hash_key_env: the variable holding the key")
            variable = section["hash_key_env"]
            secret = os.environ.get(variable.text())
            if not secret:
                raise variable.problem(f"${variable.text()} is not set (or empty)")
            hash_key = secret.encode()
        scan = None
        if allow is None:
            scan = scan_for(
                (key for rule in key_rules for key in rule.keys),
                [r.pattern.pattern for r in key_rules if r.pattern is not None]
                + [r.pattern.pattern for r in value_rules],
            )
        return cls(tuple(key_rules), tuple(value_rules), allow, ignore, hash_key, summary, scan)

    def apply(self, request: ExportRequest, payload: bytes | None = None) -> bool:
        """Redact ``request`` in place; whether anything changed. ``payload`` is its
        serialization, when the caller has it (for the first look, ``_prefilter``)."""
        if self.scan is not None:
            data = payload if payload is not None else request.SerializeToString()
            if not self.scan.may_match(data):
                return False
        before = sum(self.counts.values())
        allow, attributes, mark = self.allow_keys, self._attributes, self._mark
        if isinstance(request, ExportTraceServiceRequest):
            for resource_spans in request.resource_spans:
                self._record(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    self._record(scope_spans.scope.attributes)
                    for span in scope_spans.spans:
                        done = attributes(span.attributes, allow)
                        for event in span.events:
                            done += attributes(event.attributes, allow)
                        for link in span.links:
                            done += attributes(link.attributes, allow)
                        if done:
                            mark(span.attributes, done)
        elif isinstance(request, ExportLogsServiceRequest):
            for resource_logs in request.resource_logs:
                self._record(resource_logs.resource.attributes)
                for scope_logs in resource_logs.scope_logs:
                    self._record(scope_logs.scope.attributes)
                    for log in scope_logs.log_records:
                        done = attributes(log.attributes, allow)
                        if log.HasField("body"):
                            done += self._body(log.body)
                        if done:
                            mark(log.attributes, done)
        elif isinstance(request, ExportMetricsServiceRequest):
            for resource_metrics in request.resource_metrics:
                self._record(resource_metrics.resource.attributes)
                for scope_metrics in resource_metrics.scope_metrics:
                    self._record(scope_metrics.scope.attributes)
                    for metric in scope_metrics.metrics:
                        kind = metric.WhichOneof("data")
                        if kind is None:
                            continue
                        for point in getattr(metric, kind).data_points:
                            self._record(point.attributes)
        return sum(self.counts.values()) != before

    def _record(self, attributes: MutableSequence[KeyValue]) -> None:
        done = self._attributes(attributes, self.allow_keys)
        if done:
            self._mark(attributes, done)

    def _attributes(
        self, attributes: MutableSequence[KeyValue], allow: frozenset[str] | None
    ) -> list[_Done]:
        """Redact a list of attributes (``allow``: the allow-list, at the top level); what
        was done, as (what, key) pairs."""
        done: list[_Done] = []
        deleted = False
        decisions = self._decisions if allow is self.allow_keys else self._nested
        values = self._values
        for kv in attributes:
            key = kv.key
            decision = decisions.get(key)
            if decision is None:
                decision = self._decide(key, allow)
                if len(decisions) < _CACHED:
                    decisions[key] = decision
            if decision is _KEEP:
                continue
            if decision is _VALUES:
                value = kv.value
                kind = value.WhichOneof("value")
                if kind == "string_value":
                    # The common case, inline: a string that matches nothing (known).
                    if values.get(value.string_value) is _NOTHING:
                        continue
                elif kind != "array_value" and kind != "kvlist_value":
                    continue
                found = self._value(value, key, done)
            else:
                found = decision == "delete"
                if not found:
                    text = _text(kv.value)
                    kv.value.Clear()
                    kv.value.string_value = MASK if decision == "mask" else self._hash(text)
                    done.append((_DONE[decision], key))
            if found:
                kv.key, deleted = "", True  # dropped below
                done.append(("redacted", key))
        if deleted:
            kept = [kv for kv in attributes if kv.key]
            del attributes[:]
            attributes.extend(kept)
        return done

    def _decide(self, key: str, allow: frozenset[str] | None) -> str:
        """What becomes of an attribute by its key: kept as it is, deleted, masked or
        hashed whole, or its value checked."""
        if key in self.ignore_keys or key.startswith(_PREFIX):
            return _KEEP
        if allow is not None and key not in allow and key not in ALWAYS_KEPT:
            return "delete"
        rule = next((r for r in self.key_rules if r.matches(key)), None)
        if rule is not None:
            return rule.action
        return _VALUES if self.value_rules else _KEEP

    def _value(self, value: AnyValue, key: str, done: list[_Done]) -> bool:
        """Apply the value rules to ``value`` (and what it holds); True when a ``delete``
        rule matched, so that the attribute holding it goes."""
        kind = value.WhichOneof("value")
        if kind == "string_value":
            text, doomed, actions = self._substitute(value.string_value)
            if doomed:
                return True
            if actions:
                value.string_value = text
                done += [(_DONE[action], key) for action in actions]
        elif kind == "array_value":
            return any(self._value(item, key, done) for item in value.array_value.values)
        elif kind == "kvlist_value":
            done += self._attributes(value.kvlist_value.values, None)
        return False

    def _body(self, body: AnyValue) -> list[_Done]:
        done: list[_Done] = []
        if self._value(body, "body", done):
            body.Clear()
            body.string_value = MASK
            done.append(("masked", "body"))
        return done

    def _substitute(self, text: str) -> tuple[str, bool, tuple[str, ...]]:
        """``text`` with each value rule's matches replaced; whether a ``delete`` rule
        matched; the actions taken (each once). Most values repeat (routes, methods,
        hosts) and match nothing: one search of all the patterns at once says so, and
        short values' answers are kept."""
        cached = self._values.get(text)
        if cached is not None:
            return (text, False, ()) if cached is _NOTHING else cached
        found: tuple[str, bool, tuple[str, ...]] = (text, False, ())
        if self._any_value is not None and self._any_value.search(text) is not None:
            found = self._each_rule(text)
        if len(text) <= _CACHED_TEXT and len(self._values) < _CACHED:
            self._values[text] = found if found[2] or found[1] else _NOTHING
        return found

    def _each_rule(self, text: str) -> tuple[str, bool, tuple[str, ...]]:
        actions: list[str] = []
        for rule in self.value_rules:
            found, count = rule.pattern.subn(self._replacement(rule), text)
            if count and found != text:
                if rule.action == "delete":
                    return text, True, ()
                text = found
                actions.append(rule.action)
        return text, False, tuple(dict.fromkeys(actions))

    def _replacement(self, rule: _ValueRule) -> Callable[[re.Match[str]], str]:
        def replace(match: re.Match[str]) -> str:
            if rule.luhn and not _luhn(match.group()):
                return match.group()
            return MASK if rule.action != "hash" else self._hash(match.group())

        return replace

    def _hash(self, text: str) -> str:
        assert self.hash_key is not None  # parse refuses hash without a key
        return hmac.new(self.hash_key, text.encode(), hashlib.sha256).hexdigest()[:32]

    def _mark(self, attributes: MutableSequence[KeyValue], done: list[_Done]) -> None:
        by_what: dict[str, list[str]] = {}
        for what, key in done:
            by_what.setdefault(what, []).append(key)
        for what, keys in by_what.items():
            self.counts[what] += len(keys)
            if self.summary == "silent":
                continue
            _put(attributes, f"{_PREFIX}{what}.count", len(keys))
            if self.summary == "debug":
                _put(attributes, f"{_PREFIX}{what}.keys", ",".join(sorted(set(keys))))


_DONE = {"delete": "redacted", "mask": "masked", "hash": "hashed"}


def _put(attributes: MutableSequence[KeyValue], key: str, value: int | str) -> None:
    found = next((kv for kv in attributes if kv.key == key), None)
    if found is None:
        found = KeyValue(key=key)
        attributes.append(found)
        found = attributes[-1]
    if isinstance(value, int):
        found.value.int_value = value
    else:
        found.value.string_value = value


def _text(value: AnyValue) -> str:
    """What a whole value's hash is of: a string as it is, anything else as JSON."""
    if value.WhichOneof("value") == "string_value":
        return value.string_value
    return orjson.dumps(any_value_plain(value)).decode()


def _luhn(text: str) -> bool:
    digits = [int(c) for c in text if c.isdigit()]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


@functools.cache
def _combined(rules: tuple[_ValueRule, ...]) -> re.Pattern[str] | None:
    """One pattern matching where any of ``rules`` would."""
    if not rules:
        return None
    return re.compile("|".join(f"(?:{rule.pattern.pattern})" for rule in rules))

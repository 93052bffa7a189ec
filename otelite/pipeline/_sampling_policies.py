"""Tail-sampling policies: what decides, once a trace's wait is over, whether it is kept.

The names and shapes follow the OpenTelemetry Collector's tail_sampling processor, so that
a policy list written for it reads the same here::

    policies:
      - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
      - {name: slow, type: latency, latency: {threshold_ms: 2000}}
      - {name: some, type: probabilistic, probabilistic: {sampling_percentage: 10}}

Each policy looks at what the trace's spans so far (with their resources) add up to
(``HeldTrace``, gathered as they come by the ``TraceSummarizer`` that ``summarizer_for``
builds for the policies) and either matches or not. A trace is kept when some policy
matches, unless a ``drop`` policy matches (a drop wins). Every policy sees every trace,
so each one's share is counted on the same traces; a rate limit spends its budget on the
traces it matches.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from otelite.pipeline._pipeline_file import Node
from otelite.pipeline._trace_summary import HeldTrace, TraceSummarizer

__all__ = ["Policy", "parse_policies", "probabilistic_keeps", "summarizer_for"]

_STATUS_CODES = {"UNSET": 0, "OK": 1, "ERROR": 2}


class Policy(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def drops(self) -> bool:
        """A ``drop`` policy: matching means the trace goes, whatever the others say."""
        ...

    def matches(self, trace: HeldTrace, now: float) -> bool: ...


def probabilistic_keeps(trace_id: bytes, percentage: float, salt: str = "") -> bool:
    """Whether a trace is in the ``percentage`` share: the first 8 bytes of
    BLAKE2b-64(salt + trace id), big-endian, below ``percentage``/100 · 2⁶⁴. The same on
    every otelite instance with the same salt."""
    digest = hashlib.blake2b(salt.encode() + trace_id, digest_size=8).digest()
    return int.from_bytes(digest, "big") < percentage / 100 * 2**64


@dataclass(frozen=True, slots=True)
class _Always:
    name: str
    drops: bool = False

    def matches(self, trace: HeldTrace, now: float) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class _StatusCode:
    name: str
    mask: int
    """The bits (``HeldTrace.statuses``) of the codes it names."""
    drops: bool = False

    def matches(self, trace: HeldTrace, now: float) -> bool:
        return bool(trace.statuses & self.mask)


@dataclass(frozen=True, slots=True)
class _Latency:
    name: str
    threshold_ns: int
    upper_ns: int | None
    drops: bool = False

    def matches(self, trace: HeldTrace, now: float) -> bool:
        duration = trace.duration_ns()
        return duration >= self.threshold_ns and (
            self.upper_ns is None or duration <= self.upper_ns
        )


@dataclass(frozen=True, slots=True)
class _SpanCount:
    name: str
    low: int
    high: int | None
    drops: bool = False

    def matches(self, trace: HeldTrace, now: float) -> bool:
        count = trace.span_count
        return count >= self.low and (self.high is None or count <= self.high)


@dataclass(frozen=True, slots=True)
class _Attribute:
    """A span or resource attribute ``key`` whose value ``accepts``; inverted: none does."""

    name: str
    key: str
    accepts: Callable[[AnyValue], bool]
    invert: bool
    drops: bool = False

    def matches(self, trace: HeldTrace, now: float) -> bool:
        return (self in trace.found) != self.invert

    def observes(self, attributes: Sequence[KeyValue]) -> bool:
        """Whether one of ``attributes`` (a span's or a resource's) satisfies it."""
        key, accepts = self.key, self.accepts
        return any(a.key == key and accepts(a.value) for a in attributes)


@dataclass(frozen=True, slots=True)
class _Probabilistic:
    name: str
    percentage: float
    salt: str
    drops: bool = False

    def matches(self, trace: HeldTrace, now: float) -> bool:
        return probabilistic_keeps(trace.trace_id, self.percentage, self.salt)


@dataclass(slots=True)
class _RateLimit:
    """At most ``limit`` spans (or traces) a second per tenant and root service: a trace
    matches while its second's budget holds it whole."""

    name: str
    limit: int
    by_spans: bool
    drops: bool = False
    _second: int = -1
    _spent: dict[tuple[str, str], int] = field(default_factory=dict)

    def matches(self, trace: HeldTrace, now: float) -> bool:
        second = int(now)
        if second != self._second:
            # A new second: every budget is whole again (and the map does not grow).
            self._second, self._spent = second, {}
        key = (trace.tenant, trace.service())
        cost = trace.span_count if self.by_spans else 1
        spent = self._spent.get(key, 0)
        if spent + cost > self.limit:
            return False
        self._spent[key] = spent + cost
        return True


@dataclass(frozen=True, slots=True)
class _All:
    """``and`` (every sub-policy matches) and ``drop`` (the same, and then the trace goes)."""

    name: str
    policies: tuple[Policy, ...]
    drops: bool = False

    def matches(self, trace: HeldTrace, now: float) -> bool:
        return all(policy.matches(trace, now) for policy in self.policies)


_TYPES = (
    "always_sample",
    "status_code",
    "latency",
    "span_count",
    "string_attribute",
    "numeric_attribute",
    "probabilistic",
    "rate_limiting",
    "and",
    "drop",
)


def summarizer_for(policies: Sequence[Policy]) -> TraceSummarizer:
    """What to gather from each span for ``policies`` to decide, and nothing more."""
    found: list[Policy] = []

    def walk(policies: Sequence[Policy]) -> None:
        for policy in policies:
            found.append(policy)
            if isinstance(policy, _All):
                walk(policy.policies)

    walk(policies)
    return TraceSummarizer(
        times=any(isinstance(p, _Latency) for p in found),
        statuses=any(isinstance(p, _StatusCode) for p in found),
        services=any(isinstance(p, _RateLimit) for p in found),
        attributes=[(p, p.observes) for p in found if isinstance(p, _Attribute)],
    )


def parse_policies(node: Node, *, nested: bool = False) -> tuple[Policy, ...]:
    """The policies of a ``policies`` list (or of an ``and``/``drop`` sub-policy list)."""
    items = node.items()
    if not items:
        raise node.problem("give at least one policy")
    policies = tuple(_parse_policy(item, nested=nested) for item in items)
    names: set[str] = set()
    for item, policy in zip(items, policies, strict=True):
        if policy.name in names and not nested:
            raise item.problem(f"name {policy.name!r} given twice")
        names.add(policy.name)
    return policies


def _parse_policy(node: Node, *, nested: bool) -> Policy:
    fields = node.mapping("name", "type", *_TYPES)
    for required in ("name", "type"):
        if required not in fields:
            raise node.problem(f"{required}: required")
    name = fields["name"].text()
    kind = fields["type"].choice(*(_TYPES[:-2] if nested else _TYPES))
    for other in set(fields) - {"name", "type", kind}:
        raise fields[other].problem(f"does not go with type {kind}")
    if kind == "always_sample":
        return _Always(name)
    if kind not in fields:
        raise node.problem(f"{kind}: required for type {kind}")
    options = fields[kind]
    if kind == "status_code":
        given = options.mapping("status_codes")
        if "status_codes" not in given:
            raise options.problem("status_codes: required")
        codes = [item.choice(*_STATUS_CODES) for item in _list(given["status_codes"])]
        return _StatusCode(name, sum({1 << _STATUS_CODES[code] for code in codes}))
    if kind == "latency":
        given = options.mapping("threshold_ms", "upper_threshold_ms")
        if "threshold_ms" not in given:
            raise options.problem("threshold_ms: required")
        low = given["threshold_ms"].integer()
        high = given["upper_threshold_ms"].integer() if "upper_threshold_ms" in given else None
        if high is not None and high < low:
            raise given["upper_threshold_ms"].problem("must not be below threshold_ms")
        return _Latency(name, low * 1_000_000, None if high is None else high * 1_000_000)
    if kind == "span_count":
        given = options.mapping("min_spans", "max_spans")
        if "min_spans" not in given:
            raise options.problem("min_spans: required")
        low = given["min_spans"].integer(minimum=1)
        high = given["max_spans"].integer(minimum=low) if "max_spans" in given else None
        return _SpanCount(name, low, high)
    if kind == "string_attribute":
        return _string_attribute(name, options)
    if kind == "numeric_attribute":
        return _numeric_attribute(name, options)
    if kind == "probabilistic":
        given = options.mapping("sampling_percentage", "hash_salt")
        if "sampling_percentage" not in given:
            raise options.problem("sampling_percentage: required")
        percentage = given["sampling_percentage"].number(maximum=100.0)
        salt = given["hash_salt"].text() if "hash_salt" in given else ""
        return _Probabilistic(name, percentage, salt)
    if kind == "rate_limiting":
        given = options.mapping("spans_per_second", "traces_per_second")
        if len(given) != 1:
            raise options.problem("give one of spans_per_second, traces_per_second")
        ((unit, value),) = given.items()
        return _RateLimit(name, value.integer(minimum=1), unit == "spans_per_second")
    sub = f"{kind}_sub_policy"
    given = options.mapping(sub)
    if sub not in given:
        raise options.problem(f"{sub}: required")
    return _All(name, parse_policies(given[sub], nested=True), drops=kind == "drop")


def _string_attribute(name: str, options: Node) -> Policy:
    given = options.mapping("key", "values", "enabled_regex_matching", "invert_match")
    for required in ("key", "values"):
        if required not in given:
            raise options.problem(f"{required}: required")
    values = given["values"].texts()
    regex = (
        given["enabled_regex_matching"].boolean() if "enabled_regex_matching" in given else False
    )
    accepts: Callable[[AnyValue], bool]
    if regex:
        patterns = [_compile(given["values"], value) for value in values]

        def accepts(value: AnyValue) -> bool:
            text = _text(value)
            return text is not None and any(p.search(text) for p in patterns)

    else:
        wanted = frozenset(values)

        def accepts(value: AnyValue) -> bool:
            return _text(value) in wanted

    return _Attribute(name, given["key"].text(), accepts, _invert(given))


def _numeric_attribute(name: str, options: Node) -> Policy:
    given = options.mapping("key", "min_value", "max_value", "invert_match")
    if "key" not in given:
        raise options.problem("key: required")
    if "min_value" not in given and "max_value" not in given:
        raise options.problem("give min_value, max_value or both")
    low = given["min_value"].number(minimum=float("-inf")) if "min_value" in given else None
    high = given["max_value"].number(minimum=float("-inf")) if "max_value" in given else None
    if low is not None and high is not None and high < low:
        raise given["max_value"].problem("must not be below min_value")

    def accepts(value: AnyValue) -> bool:
        kind = value.WhichOneof("value")
        if kind not in ("int_value", "double_value"):
            return False
        number = value.int_value if kind == "int_value" else value.double_value
        return (low is None or number >= low) and (high is None or number <= high)

    return _Attribute(name, given["key"].text(), accepts, _invert(given))


def _invert(given: dict[str, Node]) -> bool:
    return given["invert_match"].boolean() if "invert_match" in given else False


def _list(node: Node) -> list[Node]:
    items = node.items()
    if not items:
        raise node.problem("give at least one")
    return items


def _compile(node: Node, text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as error:
        raise node.problem(f"{text!r} is not a regular expression: {error}") from None


def _text(value: AnyValue) -> str | None:
    return value.string_value if value.WhichOneof("value") == "string_value" else None

"""What the database does for a log query: select its streams and filter its lines.

A stream label of a stored record is not a column: ``_labels.stream_labels`` derives it
from the resource attributes (and the scope, for pushed records). :func:`label_value`
writes that derivation as a plan expression, never NULL (``""`` where the record has no
such label, which is how Prometheus's and Loki's matchers treat a missing label), so a
selector's matchers compile to one ``WHERE``.

Line filters that see the line as stored compile too: the ones right after the selector
and, since filtering commutes with stages that leave the line alone, those after parsers
and label filters up to the first stage that rewrites the line (``line_format``,
``decolorize``, ``unpack``). ``|=`` and ``!=`` are substring tests and ``|~``, ``!~`` RE2
searches, exactly as Loki runs them; a ``|>`` pattern gives only a necessary condition
(its literal parts all occur), so Python tests it again; ``ip()`` filters and ``!>`` run
in Python only. What is left runs in Python: :class:`SqlPart` says what, and whether
SQL alone decides which lines survive (then ``ORDER BY`` and ``LIMIT`` go to SQL too).

A label filter that needs a label to be there (``| json | duration > 250ms``: a line
without ``duration`` fails it) gives SQL a necessary condition too, where the label's
name is a plain word and only the record and ``| json`` can have given it: a record
attribute of that name, or the name in the line (how a JSON key that reads as the name
is written, unless a ``\\u`` escape spells it). The filter itself still runs in Python.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from otelite.query._plan import (
    And,
    Attribute,
    AttributeScope,
    Call,
    Column,
    Compare,
    Contains,
    Exists,
    Expr,
    Literal,
    Matches,
    Not,
    Op,
    Or,
    Predicate,
    all_of,
)
from otelite.query.logql._ast import (
    IP,
    AndFilter,
    BytesFilter,
    Decolorize,
    Drop,
    DurationFilter,
    JsonParser,
    Keep,
    LabelCondition,
    LabelFilter,
    LineFilter,
    LineFormat,
    LogQuery,
    Matcher,
    NumberFilter,
    OrFilter,
    Stage,
    UnpackParser,
)
from otelite.query.logql._enums import LineOp, MatchOp
from otelite.query.logql._labels import (
    INDEX_ATTRIBUTES,
    PUSH_SCOPE,
    SERVICE_DISCOVERY_LABELS,
    SERVICE_NAME,
    UNKNOWN_SERVICE,
    index_label_attributes,
)
from otelite.query.logql._pattern import Capture, parse_pattern
from otelite.query.logql._records import FIELD_NAMES
from otelite.query.logql._regex import Unsupported, compile_re2
from otelite.query.promql import label_name

__all__ = ["SqlPart", "label_value", "selector_predicate", "split_query"]

_OPS = {MatchOp.EQ: Op.EQ, MatchOp.NE: Op.NE, MatchOp.RE: Op.MATCH, MatchOp.NRE: Op.NOT_MATCH}
_LINE = Column("Body")
_PUSHED = Compare(Column("ScopeName"), Op.EQ, PUSH_SCOPE)


def _first(values: Sequence[Expr]) -> Expr:
    """The first of ``values`` that is not NULL."""
    found = values[-1]
    for value in reversed(values[:-1]):
        found = Call("coalesce", (value, found))
    return found


def _attribute(key: str) -> Expr:
    """A resource attribute's string form; NULL where missing or empty."""
    return Call("nullif", (Attribute(key, AttributeScope.RESOURCE), Literal("")))


def _otlp(label: str) -> Expr | None:
    """The label on a record sent as OTLP: from its indexed attribute, if it has one."""
    keys = index_label_attributes(label)
    return _attribute(keys[0]) if len(keys) == 2 else None


def _pushed(label: str) -> Expr:
    """The label on a record pushed through the Loki API: the attribute of its name."""
    return _attribute(index_label_attributes(label)[-1])


def label_value(label: str) -> Call:
    """The value of a stream label on each stored record, ``""`` where it has none:
    ``_labels.stream_labels`` as SQL."""
    if label == SERVICE_NAME:
        discovered = [e for e in map(_otlp, SERVICE_DISCOVERY_LABELS) if e is not None]
        otlp = _first([_attribute("service.name"), *discovered, Literal(UNKNOWN_SERVICE)])
        pushed = _first(
            [
                _pushed(SERVICE_NAME),
                *map(_pushed, SERVICE_DISCOVERY_LABELS),
                Literal(UNKNOWN_SERVICE),
            ]
        )
        # The common case reads one column: a string service.name is stored in ServiceName.
        named = And((Compare(Column("ServiceName"), Op.NE, ""), Not(_PUSHED)))
        return Call(
            "if_else", (named, Column("ServiceName"), Call("if_else", (_PUSHED, pushed, otlp)))
        )
    otlp_value = _otlp(label)
    value = Call("if_else", (_PUSHED, _pushed(label), otlp_value or Literal("")))
    return Call("coalesce", (value, Literal("")))


def _matcher(matcher: Matcher) -> Predicate | None:
    if matcher.op in (MatchOp.RE, MatchOp.NRE):
        _check_regex(matcher.value)
    if matcher.op is MatchOp.RE and matcher.value in (".*", ".+"):
        # The common "any stream" matchers, without a regex: every value, any non-empty
        # one (and service_name never is).
        if matcher.value == ".*" or matcher.name == SERVICE_NAME:
            return None
        return Compare(label_value(matcher.name), Op.NE, "")
    return Compare(label_value(matcher.name), _OPS[matcher.op], matcher.value)


def selector_predicate(selector: Sequence[Matcher]) -> Predicate | None:
    """The records of the streams ``selector`` picks."""
    return all_of(*(_matcher(m) for m in selector))


def _check_regex(pattern: str) -> None:
    """Refuse what RE2 refuses; what only Python lacks is fine for the database."""
    with contextlib.suppress(Unsupported):
        compile_re2(pattern)


@dataclass(frozen=True, slots=True)
class SqlPart:
    """A log query split between the database and Python."""

    where: Predicate | None
    """The records the database reads: the streams, and the lines SQL can filter."""
    stages: tuple[Stage, ...]
    """What runs in Python afterwards, in order (line filters SQL could not apply
    exactly included)."""
    exact: bool
    """No stage in ``stages`` can drop a line: the database's rows are the answer's."""


_REWRITES_LINE = (LineFormat, Decolorize, UnpackParser)


def split_query(query: LogQuery) -> SqlPart:
    """Which of ``query``'s work SQL does, and what is left for Python."""
    conditions: list[Predicate | None] = [selector_predicate(query.selector)]
    stages: list[Stage] = []
    pushing = True
    for stage in (*query.line_filters, *query.stages):
        if isinstance(stage, _REWRITES_LINE):
            pushing = False
        if pushing and isinstance(stage, LineFilter):
            condition, exact = line_filter_predicate(stage)
            conditions.append(condition)
            if exact:
                continue
        stages.append(stage)
    exact = not any(isinstance(s, LineFilter | LabelFilter) for s in stages)
    conditions.extend(_needed_labels(stages))
    return SqlPart(all_of(*conditions), tuple(stages), exact)


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# Labels a record has whatever its attributes: its stream labels and fields.
_RECORD_LABELS = frozenset(
    {label_name(key) for key in INDEX_ATTRIBUTES} | {SERVICE_NAME, *FIELD_NAMES}
)


def _needed_labels(stages: Sequence[Stage]) -> Iterator[Predicate]:
    """Conditions on the stored record that hold for every line the label filters among
    ``stages`` can pass, up to the first stage that can make labels other than ``json``'s
    or change the line.

    A label named by a plain word comes from an attribute of that name: a label name
    made of other keys holds an ``_`` (``_labels``; a key other than the word itself
    reads as another name). After ``| json``, it may also come from a top-level key that
    reads as the word (``sanitize_key``): the line holds the word, or a ``\\u`` escape."""
    parsed = False
    for stage in stages:
        if isinstance(stage, JsonParser) and not stage.extractions:
            parsed = True
        elif isinstance(stage, LabelFilter):
            for name in sorted(_needs(stage.condition)):
                if _WORD.fullmatch(name) and name not in _RECORD_LABELS:
                    yield _has_label(name, parsed=parsed)
        elif not isinstance(stage, LineFilter | Drop | Keep):
            return


def _has_label(name: str, *, parsed: bool) -> Predicate:
    found: list[Predicate] = []
    if parsed:  # the line first: the cheapest test, and the one that usually holds
        found += [Contains(_LINE, text, case_sensitive=True) for text in (name, "\\u")]
    found += [Exists(Attribute(name, scope)) for scope in AttributeScope]
    return Or(tuple(found))


def _needs(condition: LabelCondition) -> set[str]:
    """The labels an entry must have to pass ``condition``."""
    match condition:
        case NumberFilter() | DurationFilter() | BytesFilter():
            return {condition.name}
        case Matcher(name, MatchOp.EQ, value) if value:
            return {name}
        case AndFilter(left, right):
            return _needs(left) | _needs(right)
        case OrFilter(left, right):
            return _needs(left) & _needs(right)
    return set()


def line_filter_predicate(line_filter: LineFilter) -> tuple[Predicate | None, bool]:
    """A condition on the stored line that ``line_filter`` implies (None: none), and
    whether it is the filter itself."""
    op, values = line_filter.op, line_filter.values
    if any(isinstance(v, IP) for v in values) or op is LineOp.NOT_PATTERN:
        return None, False
    texts = [v for v in values if isinstance(v, str)]
    if op is LineOp.PATTERN:
        return _pattern_condition(texts), False
    if op in (LineOp.MATCHES, LineOp.NOT_MATCHES):
        for text in texts:
            _check_regex(text)
        tests: list[Predicate] = [Matches(_LINE, text) for text in texts]
    else:
        tests = [Contains(_LINE, text, case_sensitive=True) for text in texts]
    found = tests[0] if len(tests) == 1 else Or(tuple(tests))
    return (Not(found) if op.negated else found), True


def _pattern_condition(patterns: list[str]) -> Predicate | None:
    """A line matching one of ``patterns`` holds every literal part of that pattern."""
    options: list[Predicate] = []
    for pattern in patterns:
        literals = [p for p in parse_pattern(pattern) if not isinstance(p, Capture)]
        if not literals:
            return None  # this one can match lines that hold no literal at all
        parts = [Contains(_LINE, text, case_sensitive=True) for text in literals]
        options.append(parts[0] if len(parts) == 1 else And(tuple(parts)))
    return options[0] if len(options) == 1 else Or(tuple(options))

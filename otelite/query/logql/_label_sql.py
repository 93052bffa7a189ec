"""A label of a stored record's entry, from what SQL groups records by: what lets a metric
query count lines per label value in the database.

An entry's labels (``_labels``, ``_records``) are its stream labels, then its structured
metadata: attributes under their Loki names (sanitised, maps flattened), the record's
own fields, and ``detected_level``. For one label name, :func:`grouped_label` says which
values SQL groups by and how Python makes the label of each group, with Python's own
rules, and which records it cannot label that way (:class:`Doubt`): those are read and
labelled in Python instead. Whether an attribute could carry a label depends only on the
record's attribute keys, which SQL hashes (``_keysets``), so that is decided once per
distinct key set:

- a **stream label** (``label_value``) is the label when the record has it; otherwise
  the label is an attribute of that exact key holding a string (the record's, else its
  scope's, else its resource's, as ``structured_metadata`` layers them), and a record
  with another key that Loki's naming could turn into the label (``k8s.pod.name`` for
  ``k8s_pod_name``, a map ``http`` for ``http_status``), or with that key holding
  another type, is in doubt;
- ``detected_level`` is ``detected_level`` of the severity text and number; in doubt are
  records pushed through the Loki API, records with an attribute that could be called
  ``detected_level``, and records without a severity text that have an attribute named
  like a level field or no severity number either (their level is in the line);
- the record's own fields (``trace_id``, ``severity_text``...) are not offered: None,
  and the query runs in Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from otelite.query._plan import (
    And,
    Attribute,
    AttributeScope,
    Call,
    Column,
    Compare,
    Expr,
    Literal,
    Not,
    Op,
    Predicate,
    TypedAttribute,
    ValueKind,
)
from otelite.query.logql._ast import Drop, Keep, Matcher
from otelite.query.logql._keysets import Keysets
from otelite.query.logql._labels import (
    DETECTED_LEVEL,
    INDEX_ATTRIBUTES,
    LEVEL_FIELDS,
    PUSH_SCOPE,
    detected_level,
)
from otelite.query.logql._match import matcher_test
from otelite.query.logql._records import FIELD_NAMES
from otelite.query.logql._select import label_value
from otelite.query.promql import label_name

__all__ = ["Doubt", "GroupedLabel", "Row", "grouped_label"]

Row = tuple[object, ...]
"""One group's values of a label's outputs."""

_OWN_FIELDS = FIELD_NAMES - {DETECTED_LEVEL}
"""The structured metadata a record's own fields give (the level is a label of its own)."""
# A name Loki's naming can give an attribute key: alphanumeric runs joined by single
# underscores, not starting with a digit (a leading digit gets "key_").
_PLAIN_NAME = re.compile(r"(?!key_)[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*")
_INDEXED = frozenset(INDEX_ATTRIBUTES)
_EMPTY = Literal("")


@dataclass(frozen=True, slots=True)
class Doubt:
    """Records whose label Python must find: those meeting ``when`` (SQL) whose
    attribute keys ``keys`` doubts (None: whatever their keys)."""

    when: Predicate | None
    holds: Callable[[Row], bool]
    """``when``, on a group's values of the label's outputs."""
    keys: Callable[[Keysets], bool] | None


@dataclass(frozen=True, slots=True)
class GroupedLabel:
    """One label, as SQL groups records for it."""

    outputs: tuple[Expr, ...]
    """What SQL groups by for this label."""
    value: Callable[[Row], str]
    """The label of a group not in doubt (``""``: the entry has none)."""
    doubts: tuple[Doubt, ...]
    typed: bool
    """Its doubts read the keys of values that are not strings."""

    def staged(self, name: str, stages: Sequence[Drop | Keep]) -> GroupedLabel:
        """The label (called ``name``) after ``drop`` and ``keep`` stages."""
        value = self.value
        for stage in stages:
            value = _after(stage, name, value)
        return GroupedLabel(self.outputs, value, self.doubts, self.typed)


def _true(value: Expr) -> Predicate:
    """A boolean expression as a predicate that is never NULL."""
    return Compare(Call("coalesce", (value, Literal(False))), Op.EQ, True)


def grouped_label(name: str) -> GroupedLabel | None:
    """``name`` on each stored record's entry before any stage, or None where SQL is not
    the place to find it."""
    if name == DETECTED_LEVEL:
        return _detected_level()
    if name in _OWN_FIELDS or not _PLAIN_NAME.fullmatch(name):
        return None
    stream = label_value(name)
    record, scope, resource = (
        TypedAttribute(Attribute(name, where), ValueKind.STRING)
        for where in (AttributeScope.RECORD, AttributeScope.SCOPE, AttributeScope.RESOURCE)
    )
    pushed = Compare(Column("ScopeName"), Op.EQ, PUSH_SCOPE)
    metadata = Call(
        "if_else",
        (
            _true(pushed),
            record,  # a pushed record's structured metadata is its own attributes only
            Call("coalesce", (record, Call("coalesce", (scope, resource)))),
        ),
    )
    no_stream = _true(Compare(stream, Op.EQ, ""))
    value = Call("if_else", (no_stream, Call("coalesce", (metadata, _EMPTY)), stream))

    def doubted(keys: Keysets) -> bool:
        return name in keys.typed or _could_name(_metadata_keys(keys), name, but=name)

    doubt = Doubt(no_stream, lambda row: bool(row[1]), doubted)
    return GroupedLabel((value, no_stream), lambda row: str(row[0] or ""), (doubt,), typed=True)


def _metadata_keys(keys: Keysets) -> frozenset[str]:
    """The keys that may become structured metadata (an OTLP record's index attributes
    are its stream labels)."""
    return keys.record | keys.scope | (keys.resource - _INDEXED)


def _could_name(keys: frozenset[str], *names: str, but: str = "") -> bool:
    """Whether Loki's naming could give one of ``names`` to an attribute of one of
    ``keys`` other than ``but`` (or, for a map, to one of its flattened children)."""
    for key in keys:
        if key == but:
            continue
        named = label_name(key)
        stem = named.rstrip("_")
        for name in names:
            if named == name or (stem and name.startswith(stem + "_")):
                return True
    return False


def _detected_level() -> GroupedLabel:
    text = Column("SeverityText")
    number = Column("SeverityNumber")
    pushed = _true(Compare(Column("ScopeName"), Op.EQ, PUSH_SCOPE))
    no_text = _true(Compare(Call("coalesce", (text, _EMPTY)), Op.EQ, ""))
    numbered = _true(And((Compare(number, Op.GE, 1), Compare(number, Op.LE, 24))))

    def level(row: Row) -> str:
        return detected_level(str(row[0] or ""), _number(row[1]), {}, "")

    def unnumbered(row: Row) -> bool:
        return not row[0] and not 1 <= _number(row[1]) <= 24

    doubts = (
        Doubt(pushed, lambda row: bool(row[2]), None),
        Doubt(And((no_text, Not(numbered))), unnumbered, None),
        Doubt(
            None, lambda row: True, lambda keys: _could_name(_metadata_keys(keys), DETECTED_LEVEL)
        ),
        Doubt(
            no_text,
            lambda row: not row[0],
            lambda keys: _could_name(_metadata_keys(keys), *LEVEL_FIELDS),
        ),
    )
    return GroupedLabel((text, number, pushed), level, doubts, typed=False)


def _number(value: object) -> int:
    return value if isinstance(value, int) else 0


def _after(stage: Drop | Keep, name: str, value: Callable[[Row], str]) -> Callable[[Row], str]:
    """``value`` after one ``drop`` or ``keep`` stage (as ``_process`` runs them)."""
    items = [
        item for item in stage.labels if (item if isinstance(item, str) else item.name) == name
    ]
    tests = [matcher_test(item) for item in items if isinstance(item, Matcher)]
    if isinstance(stage, Drop):
        if len(tests) < len(items):
            return lambda row: ""
        if not tests:
            return value
        return lambda row: "" if any(test(value(row)) for test in tests) else value(row)
    if not items:
        return lambda row: ""
    if len(tests) < len(items):
        return value
    return lambda row: value(row) if any(test(value(row)) for test in tests) else ""

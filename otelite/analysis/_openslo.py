"""SLO definitions: OpenSLO v1 ``kind: SLO`` documents, read and checked strictly.

A document is accepted only when otelite can compute everything it says, and is refused
otherwise with the path of the field at fault and the reason
(``spec.objectives[0].target: must be in (0, 1), got 1.5``), so that nothing is half
understood. What otelite takes:

* ``apiVersion: openslo/v1``, ``kind: SLO``, ``metadata.name`` (lowercase letters,
  digits and ``-``, at most 63, as OpenSLO's names are), optional
  ``metadata.displayName``, ``spec.description``, ``spec.service``;
* ``spec.indicator``: an SLI inline (``indicatorRef`` names an object otelite does not
  keep) whose ``spec.ratioMetric`` has ``good`` or ``bad``, and ``total``;
* ``spec.timeWindow``: one rolling window of 7, 28 or 30 days (``7d``, ``1w``, ``28d``,
  ``4w``, ``30d``); 28 days when left out;
* ``spec.budgetingMethod: Occurrences`` (good events over all events);
* ``spec.objectives``: one or more, each with ``target`` in (0, 1) or ``targetPercent``
  in (0, 100), and an optional ``displayName`` (names must differ).

Each of ``good``, ``bad`` and ``total`` is a ``metricSource`` of one of two types:

* ``Prometheus``: ``spec.query`` is PromQL over otelite's metrics (also the span metrics
  it derives, such as ``traces_spanmetrics_calls_total``). With ``counter: true`` (the
  default) the query selects counters and the count over a window is the sum of their
  increase over it; a query holding ``$window`` computes the count itself, with the
  window put in its place (``sum(increase(x[$window]))``).
* ``otelite``: ``spec.service`` and optionally ``spec.operation`` (a span name) pick the
  service's requests (its entry spans, the same requests its RED figures count);
  ``total`` counts them all, ``good`` those that did not fail and, with
  ``spec.latencyThreshold`` (``300ms``), took at most that long; ``bad`` the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson
import promql_parser as pp
import yaml

from otelite.analysis._document import Field
from otelite.errors import InvalidRequest
from otelite.query import parse_duration_ns
from otelite.query.promql import ParseError, parse

__all__ = [
    "DEFAULT_WINDOW",
    "WINDOWS",
    "Objective",
    "PromQLCount",
    "SloDefinition",
    "SpanCount",
    "parse_documents",
    "parse_slo",
]

API_VERSION = "openslo/v1"
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SHORTHAND = re.compile(r"([1-9][0-9]*)([mhdwMQY])")
_SHORTHAND_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DAY = 86400
WINDOWS = (7 * _DAY, 28 * _DAY, 30 * _DAY)
"""The rolling windows, in seconds, an SLO may have."""
DEFAULT_WINDOW = 28 * _DAY
WINDOW_PLACEHOLDER = "$window"
_MAX_DESCRIPTION = 1050
_MAX_DEPTH = 32
_MIN_SUBQUERY_STEP = 15
_SUBQUERY_POINTS = 250

Role = Literal["good", "bad", "total"]


@dataclass(frozen=True, slots=True)
class PromQLCount:
    """Events counted by a PromQL query (see the module docstring)."""

    query: str
    counter: bool = True

    def window_query(self, window_seconds: int) -> str:
        """The PromQL whose value (summed over its series) counts the events of the
        ``window_seconds`` before the evaluation time."""
        window = f"{window_seconds}s"
        if WINDOW_PLACEHOLDER in self.query:
            return f"sum({self.query.replace(WINDOW_PLACEHOLDER, window)})"
        if isinstance(parse(self.query), pp.VectorSelector):
            return f"sum(increase({self.query}[{window}]))"
        # An expression over counters (``sum(...)``): its increase, read at a resolution
        # that keeps the subquery to a few hundred points whatever the window.
        step = max(_MIN_SUBQUERY_STEP, window_seconds // _SUBQUERY_POINTS)
        return f"sum(increase(({self.query})[{window}:{step}s]))"


@dataclass(frozen=True, slots=True)
class SpanCount:
    """Requests to ``service`` (``operation``: of that span name) counted from stored spans:
    all of them (``total``), or those that did (``good``) or did not (``bad``) succeed
    within ``latency_threshold_ns``."""

    role: Role
    service: str
    operation: str | None = None
    latency_threshold_ns: int | None = None


Count = PromQLCount | SpanCount


@dataclass(frozen=True, slots=True)
class Objective:
    """One target for the SLI; ``name`` is its ``displayName``, or its index when unnamed."""

    name: str
    target: float

    @property
    def error_budget(self) -> float:
        """The share of events allowed to be bad: 1 - target."""
        return 1.0 - self.target


@dataclass(frozen=True, slots=True)
class SloDefinition:
    """An SLO as otelite computes it, and the document it came from (kept as sent)."""

    name: str
    display_name: str | None
    description: str | None
    service: str | None
    window_seconds: int
    objectives: tuple[Objective, ...]
    numerator: Count
    """Counts good events, or bad ones when ``numerator_is_bad``."""
    numerator_is_bad: bool
    total: Count
    document: Mapping[str, Any]


def parse_documents(text: str | bytes) -> list[SloDefinition]:
    """Every SLO in ``text`` (YAML, several documents apart by ``---``, or JSON); all or
    nothing: ``InvalidRequest`` for the first problem, naming the document and field."""
    documents = _json_documents(text)
    if documents is None:
        try:
            _check_shape(text)
            documents = [d for d in yaml.safe_load_all(text) if d is not None]
        except yaml.YAMLError as error:
            raise InvalidRequest(f"not a YAML or JSON document: {_yaml_problem(error)}") from None
    if not documents:
        raise InvalidRequest("no SLO document found")
    definitions = []
    names: set[str] = set()
    for index, document in enumerate(documents):
        try:
            definition = parse_slo(document)
        except InvalidRequest as error:
            where = f"document {index + 1}: " if len(documents) > 1 else ""
            raise InvalidRequest(f"{where}{error}") from None
        if definition.name in names:
            raise InvalidRequest(
                f"document {index + 1}: metadata.name: {definition.name!r} is defined twice"
            )
        names.add(definition.name)
        definitions.append(definition)
    return definitions


def _json_documents(text: str | bytes) -> list[Any] | None:
    """The documents of a JSON text (an object, or an array of them); None when the text
    is not JSON, to be read as YAML (JSON is YAML, but YAML refuses JSON's tabs)."""
    if text.lstrip()[:1] not in ("{", "[", b"{", b"["):
        return None
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    documents = found if isinstance(found, list) else [found]
    stack = [(d, 1) for d in documents]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_DEPTH:
            raise InvalidRequest(f"nested more than {_MAX_DEPTH} deep")
        if isinstance(value, dict):
            stack += [(v, depth + 1) for v in value.values()]
        elif isinstance(value, list):
            stack += [(v, depth + 1) for v in value]
    return [d for d in documents if d is not None]


def _check_shape(text: str | bytes) -> None:
    """Refuse what would cost far more than its size to load: aliases (``*name``, which
    repeat a value without repeating its text: a few lines can stand for millions) and
    nesting deeper than ``_MAX_DEPTH``. The events are read without recursion."""
    depth = 0
    for event in yaml.parse(text):
        if isinstance(event, yaml.AliasEvent):
            where = event.start_mark
            raise InvalidRequest(
                f"aliases (*{event.anchor}) are not taken, at line {where.line + 1}, "
                f"column {where.column + 1}: write the value out"
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > _MAX_DEPTH:
                where = event.start_mark
                raise InvalidRequest(
                    f"nested more than {_MAX_DEPTH} deep at line {where.line + 1}, "
                    f"column {where.column + 1}"
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return str(problem)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"


def parse_slo(document: Any) -> SloDefinition:
    """One parsed document (a mapping) as an SLO; ``InvalidRequest`` naming the field."""
    root = Field(document, "")
    root.mapping()
    root.known("apiVersion", "kind", "metadata", "spec")
    version = root.field("apiVersion").text()
    if version != API_VERSION:
        raise root.field("apiVersion").problem(f"must be {API_VERSION}, got {version!r}")
    kind = root.field("kind").text()
    if kind != "SLO":
        raise root.field("kind").problem(f"must be SLO, got {kind!r}")
    metadata = root.field("metadata")
    metadata.mapping()
    metadata.known("name", "displayName", "labels", "annotations")
    name = metadata.field("name").text()
    if not _NAME.fullmatch(name):
        raise metadata.field("name").problem(
            f"{name!r} is not a name: lowercase letters, digits and '-', starting and ending "
            "with a letter or digit, 63 at most"
        )
    spec = root.field("spec")
    spec.mapping()
    spec.known(
        "description",
        "service",
        "indicator",
        "indicatorRef",
        "timeWindow",
        "budgetingMethod",
        "objectives",
        "alertPolicies",
    )
    if spec.has("indicatorRef"):
        raise spec.field("indicatorRef").problem(
            "otelite keeps no separate SLI objects: give the SLI inline as spec.indicator"
        )
    if spec.has("alertPolicies"):
        raise spec.field("alertPolicies").problem(
            "otelite alerts on every SLO by the multi-window, multi-burn-rate rules; "
            "leave alertPolicies out"
        )
    method = spec.field("budgetingMethod").text()
    if method != "Occurrences":
        raise spec.field("budgetingMethod").problem(
            f"must be Occurrences (good events over all events), got {method!r}"
        )
    numerator, is_bad, total = _indicator(spec.field("indicator"))
    return SloDefinition(
        name=name,
        display_name=metadata.optional_text("displayName"),
        description=spec.optional_text("description", limit=_MAX_DESCRIPTION),
        service=spec.optional_text("service"),
        window_seconds=_window(spec),
        objectives=_objectives(spec.field("objectives")),
        numerator=numerator,
        numerator_is_bad=is_bad,
        total=total,
        document=root.json(),
    )


def _window(spec: Field) -> int:
    if not spec.has("timeWindow"):
        return DEFAULT_WINDOW
    windows = spec.field("timeWindow").items()
    if len(windows) != 1:
        raise spec.field("timeWindow").problem(f"must hold exactly one window, got {len(windows)}")
    window = windows[0]
    window.mapping()
    window.known("duration", "isRolling", "calendar")
    if window.has("calendar") or not window.field("isRolling").boolean():
        raise window.field("isRolling").problem(
            "must be true: otelite keeps rolling windows (7, 28 or 30 days)"
        )
    duration = window.field("duration")
    seconds = _shorthand_seconds(duration)
    if seconds not in WINDOWS:
        raise duration.problem(f"must be 7d, 28d or 30d (or 1w, 4w), got {duration.value!r}")
    return seconds


def _shorthand_seconds(node: Field) -> int:
    text = node.text()
    match = _SHORTHAND.fullmatch(text)
    if match is None:
        raise node.problem(f"{text!r} is not a duration such as 28d or 4w")
    number, unit = match.groups()
    if unit not in _SHORTHAND_SECONDS:
        raise node.problem(
            f"{text!r}: months, quarters and years are calendar units; use days or weeks"
        )
    return int(number) * _SHORTHAND_SECONDS[unit]


def _objectives(node: Field) -> tuple[Objective, ...]:
    items = node.items()
    if not items:
        raise node.problem("needs at least one objective")
    objectives: list[Objective] = []
    for index, item in enumerate(items):
        item.mapping()
        item.known("displayName", "target", "targetPercent", "op", "value")
        for field in ("op", "value"):
            if item.has(field):
                raise item.field(field).problem(
                    "belongs to threshold metrics; a ratio SLI has none"
                )
        if item.has("target") == item.has("targetPercent"):
            raise item.problem("needs exactly one of target and targetPercent")
        if item.has("target"):
            target = item.field("target").number()
            if not 0 < target < 1:
                raise item.field("target").problem(f"must be in (0, 1), got {target:g}")
        else:
            percent = item.field("targetPercent").number()
            if not 0 < percent < 100:
                raise item.field("targetPercent").problem(f"must be in (0, 100), got {percent:g}")
            target = percent / 100
        name = item.optional_text("displayName") or str(index)
        if any(o.name == name for o in objectives):
            raise item.field("displayName").problem(f"{name!r} names two objectives")
        objectives.append(Objective(name, target))
    return tuple(objectives)


def _indicator(node: Field) -> tuple[Count, bool, Count]:
    node.mapping()
    node.known("metadata", "spec")
    sli = node.field("spec")
    sli.mapping()
    sli.known("description", "ratioMetric", "thresholdMetric")
    if sli.has("thresholdMetric"):
        raise sli.field("thresholdMetric").problem(
            "otelite computes ratio SLIs only: use ratioMetric (good or bad, and total)"
        )
    ratio = sli.field("ratioMetric")
    ratio.mapping()
    ratio.known("counter", "good", "bad", "total", "raw", "rawType")
    if ratio.has("raw") or ratio.has("rawType"):
        raise ratio.field("raw" if ratio.has("raw") else "rawType").problem(
            "precomputed ratios are not supported: give good (or bad) and total"
        )
    counter = ratio.field("counter").boolean() if ratio.has("counter") else True
    if ratio.has("good") == ratio.has("bad"):
        raise ratio.problem("needs exactly one of good and bad")
    role: Role = "good" if ratio.has("good") else "bad"
    numerator = _count(ratio.field(role), role, counter)
    total = _count(ratio.field("total"), "total", counter)
    return numerator, role == "bad", total


def _count(node: Field, role: Role, counter: bool) -> Count:
    node.mapping()
    node.known("metricSource")
    source = node.field("metricSource")
    source.mapping()
    source.known("type", "spec", "metricSourceRef")
    if source.has("metricSourceRef"):
        raise source.field("metricSourceRef").problem(
            "otelite keeps no DataSource objects: give type Prometheus or otelite"
        )
    kind = source.field("type").text()
    spec = source.field("spec")
    spec.mapping()
    if kind == "Prometheus":
        spec.known("query")
        query = spec.field("query")
        text = query.text()
        if WINDOW_PLACEHOLDER not in text and not counter:
            raise query.problem(
                "with counter: false the query must compute the count over the window "
                f"itself, holding {WINDOW_PLACEHOLDER} where the window goes"
            )
        count = PromQLCount(text, counter)
        try:
            # What runs is the query over a window: it must parse, and count a vector.
            parse(count.window_query(300))
        except ParseError as error:
            raise query.problem(f"not a PromQL query of counts: {error}") from None
        return count
    if kind == "otelite":
        spec.known("service", "operation", "latencyThreshold")
        threshold = None
        if spec.has("latencyThreshold"):
            field = spec.field("latencyThreshold")
            if role == "total":
                raise field.problem("total counts every request; a threshold goes in good or bad")
            try:
                threshold = parse_duration_ns(field.text())
            except ValueError as error:
                raise field.problem(str(error)) from None
            if threshold <= 0:
                raise field.problem("must be positive")
        return SpanCount(
            role,
            spec.field("service").text(),
            spec.optional_text("operation"),
            threshold,
        )
    raise source.field("type").problem(f"must be Prometheus or otelite, got {kind!r}")

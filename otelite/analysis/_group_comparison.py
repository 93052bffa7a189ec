"""Group comparison: the attribute values that set one group of spans apart from another.

Two groups of the spans in a time range are each named by a TraceQL span set query: the
selection (``{ status = error }``, ``{ duration > 2s }``), optionally only its spans that
start inside a window of time, and the baseline, by default every other span of the range.
A span that meets both is in the selection. A query with structure or a pipeline stands
for the spans it leaves: ``{ status = error } !< { status = error }``, the error spans
none of whose children failed, compares where errors start with the rest, which an
errors-against-the-rest comparison blurs (a failure marks every span above it too). For
every value of every span attribute, resource attribute and span name (``name``), each
group's share is the part of that group's spans having the value; the values are ranked by
how far apart the two shares are.

The score of a value is ``selection share - baseline share``, from -1 to 1: positive when
the value is more common in the selection. Values are ranked by its absolute value, then
by how many spans of both groups have them; both shares and both counts are in the answer,
so a reader can tell a 100%-vs-95% difference from a 6%-vs-1% one.

The counting runs in the database, on the same span comparison TraceQL's ``compare()``
uses (``SpanComparison``): each group's spans are counted per attribute value, keeping the
``MAX_VALUES`` most frequent values of each attribute in each group and the
``max_attributes`` attributes most spans have. A one-row query first counts each group's
spans; when together they are more than ``MAX_COUNTED_SPANS``, the values are counted on a
sample of the traces instead (whole traces, those whose id hashes into the first buckets
of ``_BUCKETS``, enough for about that many spans), and the shares are the sample's. What
is cut is said: a sample and its rate, an attribute with more values than were kept (its
uncounted values, and the other group's count of a value kept on one side only, are not
known: such a value's count there is an estimate of 0, marked inexact), attributes beyond
the bound, ranked values beyond ``limit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from otelite.errors import InvalidRequest
from otelite.query import (
    And,
    Call,
    Column,
    Compare,
    Compared,
    InSpanset,
    Literal,
    Matching,
    Op,
    Or,
    Output,
    Plan,
    Predicate,
    Select,
    SpanComparison,
    Table,
    TimeRange,
    all_of,
    compared_value,
)
from otelite.query.traceql import Attribute, Pipeline, Scope, parse, spanset_of, to_text

__all__ = [
    "GROUP_MAX_RANGE_NS",
    "MAX_ATTRIBUTES",
    "MAX_COUNTED_SPANS",
    "MAX_VALUES",
    "GroupComparison",
    "GroupComparisonPlan",
    "Sample",
    "ValueShift",
    "group_comparison_plan",
]

MAX_VALUES = 100
"""The most frequent values of each attribute kept per group."""
MAX_ATTRIBUTES = 300
"""The most attributes (those most spans have) a comparison reads at most."""
GROUP_MAX_RANGE_NS = 7 * 24 * 3600 * 10**9
"""The longest time range a comparison reads: a week."""
MAX_COUNTED_SPANS = 200_000
"""The spans a comparison counts values of at most; beyond, it counts a sample of the
traces (whole traces, chosen by a hash of their id), and says so."""

_COMPARED = (Compared.SPAN_ATTRIBUTES, Compared.RESOURCE_ATTRIBUTES, Compared.NAME)
_SCOPES = {Compared.SPAN_ATTRIBUTES: Scope.SPAN, Compared.RESOURCE_ATTRIBUTES: Scope.RESOURCE}
# One step covering any range: the counts are of the whole range.
_WHOLE_RANGE = 2**62
# A sample keeps the traces whose id hashes to one of its first buckets of these.
_BUCKETS = 10_000
_TRUE = And(())

_Value = str | int | float | bool


@dataclass(frozen=True, slots=True)
class ValueShift:
    """One attribute value, with each group's count and share of spans having it."""

    attribute: str
    """As TraceQL names it: ``span.http.route``, ``resource.service.name``, ``name``."""
    value: _Value
    selection: int
    baseline: int
    selection_share: float
    baseline_share: float
    exact: bool = True
    """False when a group's count is not known (the value was not among that group's
    most frequent values of the attribute) and stands as 0."""

    @property
    def score(self) -> float:
        """``selection_share - baseline_share``: positive when commoner in the selection."""
        return self.selection_share - self.baseline_share


@dataclass(frozen=True, slots=True)
class Sample:
    """The part of the spans a sampled comparison counted: whole traces, chosen by a
    hash of their id, ``rate`` of them; ``selection`` and ``baseline`` spans of each."""

    rate: float
    selection: int
    baseline: int


@dataclass(frozen=True, slots=True)
class GroupComparison:
    """The ranked values of a group comparison, and what was cut to bound it."""

    selection_spans: int
    baseline_spans: int
    values: tuple[ValueShift, ...]
    values_cut: tuple[str, ...] = ()
    """Attributes of which some values were not counted (more than ``MAX_VALUES``)."""
    attributes_cut: bool = False
    """More attributes than the bound were found; those fewest spans have were left out."""
    ranked_cut: bool = False
    """More values were ranked than the answer's ``limit``."""
    sample: Sample | None = None
    """Set when the groups held more than ``max_spans`` spans: the values were counted
    on a sample of their traces (``selection_spans`` and ``baseline_spans`` are still
    every span's count, the values' counts and shares the sample's)."""


@dataclass(frozen=True, slots=True)
class GroupComparisonPlan:
    """The queries of a group comparison, in two steps, and how their rows become the
    answer: ``totals`` counts each group's spans; ``counts(totals' rows)`` are the
    per-value counts and, when they are of a sample, the sample's group sizes."""

    selection: Predicate
    where: Predicate | None
    time: TimeRange
    limit: int
    max_attributes: int
    max_spans: int

    @property
    def totals(self) -> Select:
        """Each group's spans: one row, ``spans`` (both groups) and ``selected``."""
        return self._totals(None)

    def counts(self, totals: Sequence[dict[str, Any]]) -> tuple[Plan, ...]:
        """The per-value counts, on a sample of the traces when there are more than
        ``max_spans`` spans, then (for a sample) the sample's group sizes."""
        sampled = self._sampled(totals)
        comparison = SpanComparison(
            where=all_of(self.where, sampled),
            selection=self.selection,
            time=self.time,
            step_ns=_WHOLE_RANGE,
            top=MAX_VALUES,
            # One more than the bound, to know whether there were more.
            max_attributes=self.max_attributes + 1,
            compared=_COMPARED,
        )
        return (comparison,) if sampled is None else (comparison, self._totals(sampled))

    def answer(
        self, totals: Sequence[dict[str, Any]], counted: Sequence[Sequence[dict[str, Any]]]
    ) -> GroupComparison:
        """The comparison from the rows of ``totals`` and of ``counts``, in their order."""
        every = _sizes(totals)
        sizes, sample = every, None
        if len(counted) > 1:
            sizes = _sizes(counted[1])
            sample = Sample(self._buckets(totals) / _BUCKETS, sizes[1], sizes[0])
        values: dict[tuple[str, type, _Value], dict[int, int]] = {}
        kept: dict[tuple[int, str], int] = {}  # group, attribute → spans with a value kept
        having: dict[tuple[int, str], int] = {}  # group, attribute → spans with it at all
        for row in counted[0]:
            name = _name(Compared(row["compared"]), row["key"])
            group, n = int(row["selected"]), int(row["n"])
            if row["total"]:
                having[group, name] = having.get((group, name), 0) + n
                continue
            value = compared_value(row)
            kept[group, name] = kept.get((group, name), 0) + n
            # Keyed by type too: the int 1, the double 1.0 and true are three values.
            counts = values.setdefault((name, type(value), value), {})
            counts[group] = counts.get(group, 0) + n
        attributes = {name for _, name in having}
        attributes_cut = len(attributes) > self.max_attributes
        if attributes_cut:
            # One attribute more than the bound was asked for, to know whether any was cut;
            # it goes, as the bound promises.
            dropped = min(attributes, key=lambda a: (sum(having.get((g, a), 0) for g in (0, 1)), a))
            attributes.discard(dropped)
        cut = {(g, a) for (g, a), n in having.items() if kept.get((g, a), 0) < n}
        shifts = []
        for (name, _, value), counts in values.items():
            if name not in attributes:
                continue
            exact = all(g in counts or (g, name) not in cut for g in (0, 1))
            shifts.append(
                ValueShift(
                    attribute=name,
                    value=value,
                    selection=counts.get(1, 0),
                    baseline=counts.get(0, 0),
                    selection_share=_share(counts.get(1, 0), sizes[1]),
                    baseline_share=_share(counts.get(0, 0), sizes[0]),
                    exact=exact,
                )
            )
        shifts.sort(key=_rank)
        return GroupComparison(
            selection_spans=every[1],
            baseline_spans=every[0],
            values=tuple(shifts[: self.limit]),
            values_cut=tuple(sorted({a for _, a in cut} & attributes)),
            attributes_cut=attributes_cut,
            ranked_cut=len(shifts) > self.limit,
            sample=sample,
        )

    def _totals(self, sampled: Predicate | None) -> Select:
        return Select(
            Table.SPANS,
            (
                Output("spans", Call("count")),
                Output("selected", Call("count_if", (self.selection,))),
            ),
            where=all_of(self.where, sampled),
            time=self.time,
        )

    def _buckets(self, totals: Sequence[dict[str, Any]]) -> int:
        """Of ``_BUCKETS`` buckets of trace ids, how many to read: all while the groups
        hold at most ``max_spans`` spans, else enough for about that many."""
        spans = sum(_sizes(totals).values())
        if spans <= self.max_spans:
            return _BUCKETS
        return max(1, self.max_spans * _BUCKETS // spans)

    def _sampled(self, totals: Sequence[dict[str, Any]]) -> Predicate | None:
        buckets = self._buckets(totals)
        if buckets >= _BUCKETS:
            return None
        bucket = Call("sample_bucket", (Column("TraceId"), Literal(_BUCKETS)))
        return Compare(bucket, Op.LT, buckets)


def group_comparison_plan(
    selection: str,
    baseline: str | None,
    time: TimeRange,
    *,
    window: tuple[int, int] | None = None,
    limit: int = 50,
    max_attributes: int = MAX_ATTRIBUTES,
    max_spans: int = MAX_COUNTED_SPANS,
) -> GroupComparisonPlan:
    """The plan comparing the spans of ``time`` meeting ``selection`` (and starting in
    ``window``, ``(start, end]`` in Unix ns, when given) with those meeting ``baseline``
    (None: all the others). Both are TraceQL span set queries; ``InvalidRequest`` naming
    the field for one that is not, and for a time range without both ends or too long."""
    if time.start is None or time.end is None:
        raise InvalidRequest("start, end: a group comparison needs a whole time range")
    if time.end - time.start > GROUP_MAX_RANGE_NS:
        raise InvalidRequest(
            f"start: a group comparison reads at most {GROUP_MAX_RANGE_NS // 3_600_000_000_000}h"
            " of spans; choose a shorter range"
        )
    chosen = _condition("selection", selection)
    if window is not None:
        after, until = window
        if until <= after:
            raise InvalidRequest("selectionEnd: must be after selectionStart")
        start = Call("timestamp_to_ns", (Column("Timestamp"),))
        chosen = And((chosen, Compare(start, Op.GT, after), Compare(start, Op.LE, until)))
    where: Predicate | None = None
    if baseline is not None:
        other = _condition("baseline", baseline)
        if other != _TRUE and chosen != _TRUE:
            where = Or((chosen, other))
    return GroupComparisonPlan(chosen, where, time, limit, max_attributes, max_spans)


def _condition(name: str, text: str) -> Predicate:
    """The condition of one span set query (``{ }`` is every span): a filter's own, or
    for structure and pipelines, being among the spans the query leaves."""
    try:
        query = parse(text)
        found = spanset_of(query.body) if isinstance(query.body, Pipeline) else None
    except InvalidRequest as error:  # a ParseError too, which says where
        raise InvalidRequest(f"{name}: {error}") from None
    if found is None:
        raise InvalidRequest(
            f"{name}: a span set query such as {{ status = error }} is expected, not metrics"
        )
    if not isinstance(found, Matching):
        return InSpanset(found)
    return _TRUE if found.where is None else found.where


def _name(compared: Compared, key: str) -> str:
    scope = _SCOPES.get(compared)
    return "name" if scope is None else to_text(Attribute(scope, key))


def _sizes(totals: Sequence[dict[str, Any]]) -> dict[int, int]:
    """Each group's spans (1: the selection, 0: the baseline) from a ``totals`` row."""
    [row] = totals
    spans, selected = int(row["spans"] or 0), int(row["selected"] or 0)
    return {1: selected, 0: spans - selected}


def _share(n: int, of: int) -> float:
    return n / of if of else 0.0


def _rank(shift: ValueShift) -> tuple[object, ...]:
    # Rounded: scores equal but for float rounding (a two-valued attribute's values have
    # opposite scores) rank by count, not by the last bit.
    return (
        -round(abs(shift.score), 12),
        -(shift.selection + shift.baseline),
        shift.attribute,
        str(shift.value),
    )

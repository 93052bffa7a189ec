"""TraceQL's ``compare()``: a span comparison, and its rows → Tempo's series.

``{ filter } | compare({ selection }, top_n, start, end)`` splits the spans the filter
leaves into the selection (they meet ``selection``, and start in ``(start, end]`` when
those are given as Unix ns) and the baseline (the rest), and counts each side's spans per
step by every value of every attribute they have: span, resource and instrumentation
attributes, and the intrinsics Tempo reads for it (``name``, ``status``,
``statusMessage``, ``kind``, ``instrumentation:name``, ``instrumentation:version``,
``rootServiceName``, ``rootName``).

The series are Tempo's: labelled ``__meta_type`` (``baseline`` or ``selection``) and the
attribute (``span.http.route``, ``resource.service.name``, ``name``...) with the value,
for the ``top_n`` most frequent values of each attribute on each side; and, per attribute,
``baseline_total`` and ``selection_total``, labelled with the attribute and ``"nil"``,
counting the side's spans that have the attribute at all. Every step of the range has a
sample, zero where no span counted, as in Tempo. Tempo's ``__meta_error`` series for an
attribute with more than ``top_n`` values carries no samples, so Tempo's answers leave it
out; so do these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from otelite.errors import InvalidRequest
from otelite.query._plan import Compared, Matching, SpanComparison, TimeRange
from otelite.query._span_comparison import compared_value
from otelite.query.traceql._ast import Attribute, Compare, MetricsQuery
from otelite.query.traceql._enums import Intrinsic, Scope
from otelite.query.traceql._generator import to_text
from otelite.query.traceql._metrics import Series, group_label, source_condition
from otelite.query.traceql._parser import parse
from otelite.query.traceql._plan import spanset_of

__all__ = ["MetricsComparison", "metrics_comparison"]

MAX_TOP = 1_000
"""The most values per attribute ``compare()`` may ask for (Tempo's bound)."""
MAX_ATTRIBUTES = 500
"""The attributes a comparison reports at most: those most spans have."""
MAX_POINTS = 500_000
"""Samples in an answer at most, counting every step of every series."""

_META = "__meta_type"
_SIDES = {
    (0, 0): "baseline",
    (1, 0): "selection",
    (0, 1): "baseline_total",
    (1, 1): "selection_total",
}
# A total's series carries its attribute with a nil value, which Tempo writes as "nil".
_NIL = "nil"
_SCOPES = {
    Compared.SPAN_ATTRIBUTES: Scope.SPAN,
    Compared.RESOURCE_ATTRIBUTES: Scope.RESOURCE,
    Compared.SCOPE_ATTRIBUTES: Scope.INSTRUMENTATION,
}
# Tempo names intrinsics here without their scope (its attribute's text).
_NAMES = {
    Compared.NAME: "name",
    Compared.STATUS: "status",
    Compared.STATUS_MESSAGE: "statusMessage",
    Compared.KIND: "kind",
    Compared.SCOPE_NAME: "instrumentation:name",
    Compared.SCOPE_VERSION: "instrumentation:version",
    Compared.ROOT_SERVICE: "rootServiceName",
    Compared.ROOT_NAME: "rootName",
}
_NUMBERED = {Compared.STATUS: Intrinsic.SPAN_STATUS, Compared.KIND: Intrinsic.SPAN_KIND}

_Labels = tuple[tuple[str, object], ...]


@dataclass(frozen=True, slots=True)
class MetricsComparison:
    """The plan of a TraceQL ``compare()``, and how its rows become series."""

    plan: SpanComparison

    def series(self, rows: Iterable[dict[str, Any]]) -> list[Series]:
        """Tempo's series from the plan's rows, a sample at every step of the range;
        ``InvalidRequest`` when they would hold more than ``MAX_POINTS`` samples."""
        found: dict[tuple[_Labels, type], dict[int, float]] = {}
        for n, row in enumerate(rows):
            if n >= MAX_POINTS:
                raise _too_many()
            compared = Compared(row["compared"])
            side = _SIDES[row["selected"], row["total"]]
            value = _NIL if row["total"] else _value(compared, row)
            labels: _Labels = ((_META, side), (_name(compared, row["key"]), value))
            # Keyed by type too: the int 1, the double 1.0 and true are three values.
            found.setdefault((labels, type(value)), {})[row["bucket_ns"]] = float(row["n"])
        steps = self._steps()
        if len(found) * len(steps) > MAX_POINTS:
            raise _too_many()
        series = [
            Series(labels, tuple((at, points.get(at, 0.0)) for at in sorted({*steps, *points})))
            for (labels, _), points in found.items()
        ]
        return sorted(series, key=_order)

    def _steps(self) -> list[int]:
        """The start of every step of the range (on the plan's grid of multiples)."""
        start, end, step = self.plan.time.start, self.plan.time.end, self.plan.step_ns
        assert start is not None and end is not None, "metrics have a whole time range"
        return list(range(start // step * step, end, step))


def metrics_comparison(text: str, *, time: TimeRange, step_ns: int) -> MetricsComparison | None:
    """The plan of a TraceQL ``compare()`` query; None for a query of another metrics
    function. ``InvalidRequest`` for arguments out of Tempo's bounds."""
    body = parse(text).body
    if not isinstance(body, MetricsQuery) or not isinstance(body.function, Compare):
        return None
    if time.start is None or time.end is None:
        raise InvalidRequest("compare() needs a time range with a start and an end")
    compare = body.function
    assert not body.stages, "the parser lets nothing follow compare()"
    if not 1 <= compare.top_n <= MAX_TOP:
        raise InvalidRequest(
            f"compare(): top_n must be an integer from 1 to {MAX_TOP}, got {compare.top_n}"
        )
    window: tuple[int, int] | None = None
    if compare.start or compare.end:
        if compare.start <= 0 or compare.end <= 0:
            raise InvalidRequest("compare(): start and end are Unix nanoseconds, both positive")
        if compare.end <= compare.start:
            raise InvalidRequest("compare(): end must be after start")
        window = (compare.start, compare.end)
    selection = spanset_of(compare.selection)
    assert isinstance(selection, Matching), "a spanset filter is a condition on each span"
    plan = SpanComparison(
        where=source_condition(body.source),
        selection=selection.where,
        time=time,
        step_ns=step_ns,
        top=compare.top_n,
        max_attributes=MAX_ATTRIBUTES,
        window=window,
        limit=MAX_POINTS + 1,
    )
    return MetricsComparison(plan)


def _name(compared: Compared, key: str) -> str:
    """The attribute's label, as Tempo writes an attribute (``span."a b"``)."""
    scope = _SCOPES.get(compared)
    if scope is None:
        return _NAMES[compared]
    return to_text(Attribute(scope, key))


def _value(compared: Compared, row: dict[str, Any]) -> object:
    intrinsic = _NUMBERED.get(compared)
    if intrinsic is not None:
        return group_label(int(row["value"]), intrinsic)
    return compared_value(row)


def _order(series: Series) -> tuple[object, ...]:
    """Sides in Tempo's order, then attributes by name, then their most counted values."""
    (_, side), (name, value) = series.labels
    return (
        list(_SIDES.values()).index(str(side)),
        name,
        -sum(v for _, v in series.samples),
        str(value),
    )


def _too_many() -> InvalidRequest:
    return InvalidRequest(
        f"compare(): the answer would hold more than {MAX_POINTS} samples; use a larger"
        " step, a shorter range, a smaller top_n or a narrower filter"
    )

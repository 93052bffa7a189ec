"""PromQL's binary operators: arithmetic, comparisons and the set operators, with vector
matching (``on``/``ignoring``, ``group_left``/``group_right``) and ``bool``.

Matching is per step, as Prometheus evaluates it: a series takes part only where it has
a sample, so two series with one signature conflict only at steps where both are
present. The semantics follow ``promql/engine.go`` (``VectorBinop``,
``VectorscalarBinop``, ``resultMetric``): arithmetic and ``bool`` comparisons drop the
metric name, a filtering comparison keeps the left operand's value, ``%`` is the
dividend-signed remainder and ``^`` the power.

Native histograms (``_native``) take part only in ``*`` and ``/`` by a scalar (the
histogram on the left of ``/``) and in the set operators, which match them by their
own labels; elsewhere they are left out, as Prometheus drops what it cannot compute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from otelite.query.promql._native import PART, split_histograms
from otelite.query.promql._series import (
    NAME,
    Floats,
    Labels,
    QueryError,
    Scalar,
    Vector,
    drop_name,
    format_labels,
    merge_same_labels,
)

__all__ = ["COMPARISONS", "Matching", "binary_scalars", "binary_vector_scalar", "binary_vectors"]

_Op = Callable[[Floats, Floats], Floats]


def _comparison(compare: Callable[[Floats, Floats], npt.NDArray[np.bool_]]) -> _Op:
    def apply(left: Floats, right: Floats) -> Floats:
        return compare(left, right).astype(np.float64)

    return apply


ARITHMETIC: dict[str, _Op] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,
    "^": np.power,
    "atan2": np.arctan2,
}
COMPARISONS: dict[str, _Op] = {
    "==": _comparison(np.equal),
    "!=": _comparison(np.not_equal),
    ">": _comparison(np.greater),
    "<": _comparison(np.less),
    ">=": _comparison(np.greater_equal),
    "<=": _comparison(np.less_equal),
}
SET_OPERATORS = frozenset({"and", "or", "unless"})


@dataclass(frozen=True, slots=True)
class Matching:
    """How two vectors' series pair up: on (or ignoring) ``labels``; ``card`` is
    ``one-to-one``, ``many-to-one`` (``group_left``), ``one-to-many`` (``group_right``)
    or ``many-to-many`` (the set operators); ``include`` are the labels ``group_x``
    copies from the one side."""

    card: str = "one-to-one"
    on: bool = False
    labels: tuple[str, ...] = ()
    include: tuple[str, ...] = ()

    def signature(self, labels: Labels) -> Labels:
        if self.on:
            kept = set(self.labels)
            return tuple(item for item in labels if item[0] in kept)
        dropped = {*self.labels, NAME, PART}
        return tuple(item for item in labels if item[0] not in dropped)


def _calculate(op: str, left: Floats, right: Floats) -> Floats:
    with np.errstate(all="ignore"):
        if op in ARITHMETIC:
            return ARITHMETIC[op](left, right)
        return COMPARISONS[op](left, right)


def binary_scalars(op: str, left: Scalar, right: Scalar) -> Scalar:
    """Two scalars (a comparison between them needs ``bool`` and gives 0 or 1)."""
    return Scalar(_calculate(op, left.values, right.values))


def binary_vector_scalar(
    op: str, vector: Vector, scalar: Scalar, *, scalar_left: bool, return_bool: bool
) -> Vector:
    """A vector and a scalar, the scalar on the left when ``scalar_left``."""
    if not (op == "*" or (op == "/" and not scalar_left)):
        vector, _ = split_histograms(vector)
    values = vector.values
    number = np.broadcast_to(scalar.values, values.shape)
    left, right = (number, values) if scalar_left else (values, number)
    result = _calculate(op, left, right)
    present = vector.present
    labels = vector.labels
    if op in COMPARISONS:
        if return_bool:
            labels = [drop_name(lb) for lb in labels]
        else:
            present = present & (result == 1.0)
            result = values  # the vector's own value, whichever side it was on
    else:
        labels = [drop_name(lb) for lb in labels]
    return merge_same_labels(Vector.of(list(labels), result, present))


def binary_vectors(
    op: str, left: Vector, right: Vector, matching: Matching, *, return_bool: bool
) -> Vector:
    """Two vectors, matched per step."""
    if op in SET_OPERATORS:
        return _set_operation(op, left, right, matching)
    (left, _), (right, _) = split_histograms(left), split_histograms(right)
    many, one = (right, left) if matching.card == "one-to-many" else (left, right)
    steps = left.steps
    one_signatures = [matching.signature(lb) for lb in one.labels]
    index: dict[Labels, int] = {}
    one_group = np.array([index.setdefault(s, len(index)) for s in one_signatures], np.intp)
    # Which row of the one side each signature has at each step (-1: none).
    chosen = np.full((len(index), steps), -1, dtype=np.intp)
    seen = np.zeros((len(index), steps), dtype=np.int64)
    for row, g in enumerate(one_group):
        at = one.present[row]
        seen[g] += at
        chosen[g, at] = row
    if (seen > 1).any():
        g = int(np.argwhere(seen > 1)[0][0])
        side = "left" if matching.card == "one-to-many" else "right"
        raise QueryError(
            f"found duplicate series for the match group {format_labels(list(index)[g])}"
            f" on the {side} hand-side of the operation;"
            " many-to-many matching not allowed: matching labels must be unique on one side"
        )
    out_labels: list[Labels] = []
    out_values: list[Floats] = []
    out_present: list[npt.NDArray[np.bool_]] = []
    drops_name = op in ARITHMETIC or return_bool
    matched = np.zeros((len(index), steps), dtype=np.int64)
    columns = np.arange(steps)
    for row, labels in enumerate(many.labels):
        g = index.get(matching.signature(labels))
        if g is None:
            continue
        partner = chosen[g]
        at = many.present[row] & (partner >= 0)
        if not at.any():
            continue
        if matching.card == "one-to-one":
            matched[g] += at
        partner_values = one.values[np.maximum(partner, 0), columns]
        mine = many.values[row]
        left_values, right_values = (
            (partner_values, mine) if matching.card == "one-to-many" else (mine, partner_values)
        )
        result = _calculate(op, left_values, right_values)
        if op in COMPARISONS and not return_bool:
            at = at & (result == 1.0)
            result = left_values
        for partner_row in np.unique(partner[at]):
            here = at & (partner == partner_row)
            out_labels.append(_result_labels(labels, one.labels[partner_row], matching, drops_name))
            out_values.append(result)
            out_present.append(here)
    if (matched > 1).any():
        raise QueryError(
            "multiple matches for labels: many-to-one matching must be explicit"
            " (group_left/group_right)"
        )
    if not out_labels:
        return Vector.empty(steps)
    return merge_same_labels(Vector.of(out_labels, np.array(out_values), np.array(out_present)))


def _result_labels(many: Labels, one: Labels, matching: Matching, drops_name: bool) -> Labels:
    labels = dict(many)
    if drops_name:
        labels.pop(NAME, None)
    if matching.card == "one-to-one":
        if matching.on:
            labels = {k: v for k, v in labels.items() if k in matching.labels}
        else:
            for name in matching.labels:
                labels.pop(name, None)
    from_one = dict(one)
    for name in matching.include:
        if from_one.get(name, ""):
            labels[name] = from_one[name]
        else:
            labels.pop(name, None)
    return tuple(sorted(labels.items()))


def _set_operation(op: str, left: Vector, right: Vector, matching: Matching) -> Vector:
    def presence(
        vector: Vector, signatures: Sequence[Labels]
    ) -> dict[Labels, npt.NDArray[np.bool_]]:
        found: dict[Labels, npt.NDArray[np.bool_]] = {}
        for row, signature in enumerate(signatures):
            before = found.get(signature)
            found[signature] = (
                vector.present[row] if before is None else before | vector.present[row]
            )
        return found

    left_signatures = [matching.signature(lb) for lb in left.labels]
    right_signatures = [matching.signature(lb) for lb in right.labels]
    nowhere = np.zeros(left.steps, dtype=bool)
    if op == "or":
        on_left = presence(left, left_signatures)
        extra = np.array([~on_left.get(s, nowhere) for s in right_signatures], dtype=bool).reshape(
            len(right.labels), left.steps
        )
        return merge_same_labels(
            Vector.of(
                [*left.labels, *right.labels],
                np.concatenate([left.values, right.values]),
                np.concatenate([left.present, right.present & extra]),
            )
        )
    on_right = presence(right, right_signatures)
    there = np.array([on_right.get(s, nowhere) for s in left_signatures], dtype=bool).reshape(
        len(left.labels), left.steps
    )
    kept = left.present & (there if op == "and" else ~there)
    return Vector.of(list(left.labels), left.values, kept)

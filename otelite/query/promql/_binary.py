"""PromQL's binary operators: arithmetic, comparisons and the set operators, with vector
matching (``on``/``ignoring``, ``group_left``/``group_right``) and ``bool``.

Matching is per step, as Prometheus evaluates it: a series takes part only where it has
a sample, so two series with one signature conflict only at steps where both are
present. The semantics follow ``promql/engine.go`` (``VectorBinop``,
``VectorscalarBinop``, ``resultMetric``): arithmetic and ``bool`` comparisons drop the
metric name, a filtering comparison keeps the left operand's value, ``%`` is the
dividend-signed remainder and ``^`` the power.

A native histogram (``_native``) is matched as one series, by its own labels; what an
operator does with it is in ``_native_binary``: ``+`` and ``-`` between two, ``*`` by a
float (either side) and ``/`` by one, ``==`` and ``!=`` between two, and the set
operators. Elsewhere it is left out, as Prometheus drops what it cannot compute.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from otelite.query.promql._native import PART, joined, split_histograms
from otelite.query.promql._native_binary import Operand, histogram_pair, operand, scaled
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
    """A vector and a scalar, the scalar on the left when ``scalar_left``: a native
    histogram is multiplied, or divided when on the left, and left out otherwise."""
    vector, parts = split_histograms(vector)
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
    found = merge_same_labels(Vector.of(list(labels), result, present))
    if parts.labels and (op == "*" or (op == "/" and not scalar_left)):
        return joined(found, scaled(parts, scalar.values, divide=op == "/"))
    return found


def binary_vectors(
    op: str, left: Vector, right: Vector, matching: Matching, *, return_bool: bool
) -> Vector:
    """Two vectors, matched per step."""
    if op in SET_OPERATORS:
        return _set_operation(op, left, right, matching)
    left_side, right_side = operand(left), operand(right)
    one_to_many = matching.card == "one-to-many"
    many, one = (right_side, left_side) if one_to_many else (left_side, right_side)
    steps = left.steps
    one_signatures = [matching.signature(lb) for lb in one.items.labels]
    index: dict[Labels, int] = {}
    one_group = np.array([index.setdefault(s, len(index)) for s in one_signatures], np.intp)
    # Which row of the one side each signature has at each step (-1: none).
    chosen = np.full((len(index), steps), -1, dtype=np.intp)
    seen = np.zeros((len(index), steps), dtype=np.int64)
    for row, g in enumerate(one_group):
        at = one.items.present[row]
        seen[g] += at
        chosen[g, at] = row
    if (seen > 1).any():
        g = int(np.argwhere(seen > 1)[0][0])
        side = "left" if one_to_many else "right"
        raise QueryError(
            f"found duplicate series for the match group {format_labels(list(index)[g])}"
            f" on the {side} hand-side of the operation;"
            " many-to-many matching not allowed: matching labels must be unique on one side"
        )
    found: list[Vector] = []
    drops_name = op in ARITHMETIC or return_bool
    matched = np.zeros((len(index), steps), dtype=np.int64)
    for row, labels in enumerate(many.items.labels):
        g = index.get(matching.signature(labels))
        if g is None:
            continue
        partner = chosen[g]
        at = many.items.present[row] & (partner >= 0)
        for partner_row in np.unique(partner[at]):
            here = at & (partner == partner_row)
            result_labels = _result_labels(
                labels, one.items.labels[partner_row], matching, drops_name
            )
            left_item, right_item = (partner_row, row) if one_to_many else (row, partner_row)
            computed = _pair(
                op, left_side, left_item, right_side, right_item, here, result_labels, return_bool
            )
            if computed is None:
                continue
            if matching.card == "one-to-one":
                matched[g] += here
            found.append(computed)
    if (matched > 1).any():
        raise QueryError(
            "multiple matches for labels: many-to-one matching must be explicit"
            " (group_left/group_right)"
        )
    if not found:
        return Vector.empty(steps)
    return merge_same_labels(
        Vector.of(
            [labels for piece in found for labels in piece.labels],
            np.concatenate([piece.values for piece in found]),
            np.concatenate([piece.present for piece in found]),
        )
    )


def _pair(
    op: str,
    left: Operand,
    left_item: int,
    right: Operand,
    right_item: int,
    here: npt.NDArray[np.bool_],
    labels: Labels,
    return_bool: bool,
) -> Vector | None:
    """One matched pair at the steps ``here``, under ``labels``; None where the
    operator does not apply to them (a native histogram and a comparison with a float)."""
    if left.is_histogram(left_item) or right.is_histogram(right_item):
        return histogram_pair(
            op, left, left_item, right, right_item, here, labels, return_bool=return_bool
        )
    left_values, right_values = left.items.values[left_item], right.items.values[right_item]
    result = _calculate(op, left_values, right_values)
    if op in COMPARISONS and not return_bool:
        here = here & (result == 1.0)
        result = left_values
    return Vector([labels], result[None, :], here[None, :])


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

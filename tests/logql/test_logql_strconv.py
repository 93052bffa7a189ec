"""Numbers read as Go's ``strconv.ParseFloat(s, 64)`` reads them, the one reader behind
label filters, ``unwrap`` and template numbers.

Expected values follow Go's strconv documentation: decimal and hexadecimal float
literals with underscores only between digits (or after ``0x``), infinity and NaN in
any case (a sign on infinity only), and a range error where a finite spelling overflows.
"""

from __future__ import annotations

import math

import pytest

from otelite.query.logql._strconv import go_float, parse_float


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1.0),
        ("-2.5", -2.5),
        ("+.5", 0.5),
        ("1.", 1.0),
        ("1_000", 1000.0),
        ("1e1_0", 1e10),
        ("6.02E23", 6.02e23),
        ("0x1p-2", 0.25),
        ("0X1.8P1", 3.0),
        ("0x_1p4", 16.0),
        ("0x.8p1", 1.0),
        ("inf", math.inf),
        ("-Infinity", -math.inf),
        ("+INF", math.inf),
    ],
)
def test_go_reads_these_as_floats(text: str, expected: float) -> None:
    assert go_float(text) == expected


def test_negative_zero_keeps_its_sign() -> None:
    assert math.copysign(1.0, go_float("-0")) == -1.0


def test_nan_is_read_without_a_sign() -> None:
    assert math.isnan(go_float("NaN"))
    with pytest.raises(ValueError, match="invalid syntax"):
        go_float("-nan")


@pytest.mark.parametrize(
    "text", ["", ".", "abc", "_1", "1_", "1__0", "1_.5", "0x1", "0xp1", "1e", "infin", "1.5s"]
)
def test_go_refuses_these(text: str) -> None:
    with pytest.raises(
        ValueError, match=rf'^strconv.ParseFloat: parsing "{text}": invalid syntax$'
    ):
        go_float(text)


@pytest.mark.parametrize("text", ["1e400", "-1e400", "0x1p5000"])
def test_a_finite_spelling_past_float64_is_out_of_range(text: str) -> None:
    with pytest.raises(ValueError, match="value out of range"):
        go_float(text)


@pytest.mark.parametrize(("text", "expected"), [("0x10p0", 16.0), ("2_5", 25.0), ("inf", None)])
def test_templates_read_finite_numbers_only(text: str, expected: float | None) -> None:
    assert parse_float(text) == expected

"""Loki's type detection for detected fields, and byte sizes written as go-humanize
writes them, as round-trip tables (answers from Go's ``strconv``, ``time`` and
go-humanize rules, worked out by hand)."""

from __future__ import annotations

import pytest

from otelite.query.logql import field_type
from otelite.query.logql._detected import humanize_bytes


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("42", "int"),
        ("-7", "int"),
        ("+3", "int"),
        ("12.5", "float"),
        ("1e3", "float"),
        ("-0.5", "float"),
        ("NaN", "float"),
        ("+Inf", "float"),
        ("true", "boolean"),
        ("F", "boolean"),
        ("t", "boolean"),
        ("1.5s", "duration"),
        ("300ms", "duration"),
        ("1h2m", "duration"),
        ("2KB", "bytes"),
        ("5 MiB", "bytes"),
        ("1,024 kB", "bytes"),
        ("yes", "string"),
        ("", "string"),
        ("1d", "string"),  # Go's durations have no days
        ("10.1.2.3", "string"),
    ],
)
def test_field_types(value: str, kind: str) -> None:
    assert field_type(value) == kind


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (9, "9 B"),
        (12, "12 B"),
        (2000, "2.0 kB"),
        (2048, "2.0 kB"),
        (15_000, "15 kB"),
        (5_000_000, "5.0 MB"),
        (123_456_789, "124 MB"),  # 123.5, to the even digit as Go rounds it
    ],
)
def test_humanized_bytes(size: int, text: str) -> None:
    assert humanize_bytes(size) == text

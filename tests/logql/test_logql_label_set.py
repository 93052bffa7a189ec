"""A pushed stream's labels in Prometheus's text form: what reads, and what is refused
with the position at fault."""

from __future__ import annotations

import pytest

from otelite.query.logql import ParseError, parse_labels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{job="varlogs", filename="/var/log/syslog"}',
            {"job": "varlogs", "filename": "/var/log/syslog"},
        ),
        ("{}", {}),
        ('{a="1",}', {"a": "1"}),
        (' { a = "1" ,b="2" } ', {"a": "1", "b": "2"}),
        (
            '{msg="say \\"hi\\"\\n\\tthen \\\\ \\x41\\u00e9\\101"}',
            {"msg": 'say "hi"\n\tthen \\ AéA'},
        ),
        ("{raw=`C:\\temp`}", {"raw": "C:\\temp"}),
        (
            '{by="x", json="y", rate="z", _x9="w"}',
            {"by": "x", "json": "y", "rate": "z", "_x9": "w"},
        ),
        ('{a="", b="2"}', {"b": "2"}),
        ('{emoji="🚀", cjk="日本"}', {"emoji": "🚀", "cjk": "日本"}),
    ],
)
def test_labels_read(text: str, expected: dict[str, str]) -> None:
    assert parse_labels(text) == expected


@pytest.mark.parametrize(
    ("text", "column", "says"),
    [
        ("", 1, "unexpected $end, expecting {"),
        ('job="x"', 1, "expecting {"),
        ('{job="x"', 9, "unexpected $end, expecting } or ,"),
        ('{job="x" env="y"}', 10, "expecting } or ,"),
        ('{job="x"} extra', 11, "expecting the end of the labels"),
        ("{job=x}", 6, "unexpected IDENTIFIER, expecting STRING"),
        ('{job!="x"}', 5, "unexpected !=, expecting ="),
        ('{"job"="x"}', 2, "expecting a label name or }"),
        ('{k8s.pod="x"}', 5, "unexpected ., expecting ="),
        ('{nämé="x"}', 2, "expecting a label name or }"),
        ('{a="1", a="2"}', 9, "duplicate label name 'a'"),
        ('{a="x\\q"}', 6, "invalid char escape"),
        ('{a="x}', 4, "literal not terminated"),
        ('metric{a="1"}', 1, "expecting {"),
    ],
)
def test_bad_labels_say_where(text: str, column: int, says: str) -> None:
    with pytest.raises(ParseError) as raised:
        parse_labels(text)
    assert raised.value.column == column
    assert says in raised.value.message

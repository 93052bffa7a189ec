"""The Python half of a log pipeline, stage by stage, on entries built by hand; the
expected labels follow Loki's ``pkg/logql/log`` rules, written out."""

from __future__ import annotations

import pytest

from otelite.errors import InvalidRequest
from otelite.query.logql import Entries, EntryLabels, LogQuery, parse
from otelite.query.logql._process import compile_stages

STREAM = {"app": "web", "level": "stream-level"}


def _entries(*lines: str, metadata: dict[str, str] | None = None) -> Entries:
    return Entries(
        list(range(len(lines))),
        list(lines),
        [EntryLabels(STREAM, dict(metadata or {})) for _ in lines],
    )


def _run(pipeline: str, *lines: str, metadata: dict[str, str] | None = None) -> Entries:
    query = parse('{app="web"} ' + pipeline)
    assert isinstance(query, LogQuery)
    stages = (*query.line_filters, *query.stages)
    return compile_stages(stages).run(_entries(*lines, metadata=metadata))


def _labels(entries: Entries, row: int = 0) -> dict[str, str]:
    return dict(entries.labels[row].all())


def test_a_parsed_label_hides_the_stream_label_it_clashes_with() -> None:
    # A clashing key is renamed, so the stream label stays as it is.
    found = _labels(_run("| logfmt", "level=info app=api"))
    assert found == {
        "app": "web",
        "app_extracted": "api",
        "level": "stream-level",
        "level_extracted": "info",
    }


def test_the_first_parser_to_extract_a_label_keeps_it() -> None:
    found = _labels(_run('| logfmt | regexp "n=(?P<n>\\\\d+)"', "n=1 m=2"))
    assert found["n"] == "1"
    # Within one line too: the first of a repeated key wins.
    assert _labels(_run("| logfmt", "k=1 k=2"))["k"] == "1"
    assert _labels(_run("| json", '{"k":1,"k":2}'))["k"] == "1"


def test_metadata_clashes_and_label_format_moves_a_name_to_parsed() -> None:
    entries = _run("| logfmt", "trace_id=x", metadata={"trace_id": "abc"})
    _, metadata, parsed = entries.labels[0].categorized()
    assert dict(metadata) == {"trace_id": "abc"}
    assert dict(parsed) == {"trace_id_extracted": "x"}
    renamed = _run("| label_format tid=trace_id", "x", metadata={"trace_id": "abc"})
    _, metadata, parsed = renamed.labels[0].categorized()
    assert dict(metadata) == {} and dict(parsed) == {"tid": "abc"}


def test_metadata_named_like_a_stream_label() -> None:
    labels = EntryLabels(STREAM, {"app": "meta", "__error__": "E"})
    assert labels.metadata == {"app_extracted": "meta"}
    assert labels.error == "E"


@pytest.mark.parametrize(
    ("pipeline", "kept"),
    [
        ("| logfmt | n > 1 or bad > 1", [False, True, True]),
        ("| logfmt | n > 1 and n < 3", [False, True, False]),
        ("| logfmt | n > 1, n < 3", [False, True, False]),
        ('| logfmt | (n = 1 or n = 3) and m = "x"', [True, False, False]),
        ("| logfmt | missing > 1", [False, False, False]),
        ('| logfmt | m != "x"', [False, True, True]),  # a missing label is ""
        ('| logfmt | ip = ip("10.0.0.0/8")', [True, True, False]),
        # A missing label fails != too.
        ('| logfmt | ip != ip("10.0.0.1-10.0.0.9")', [False, True, False]),
    ],
)
def test_label_filters(pipeline: str, kept: list[bool]) -> None:
    lines = ["n=1 m=x ip=10.0.0.1", "n=2 ip=10.0.0.20", "n=3 bad=zz"]
    found = _run(pipeline, *lines)
    assert found.lines == [line for line, keep in zip(lines, kept, strict=True) if keep]


def test_a_value_that_does_not_convert_keeps_the_line_with_an_error() -> None:
    found = _run("| logfmt | n > 1", "n=abc")
    assert _labels(found)["__error__"] == "LabelFilterErr"
    assert _labels(found)["__error_details__"] == (
        'strconv.ParseFloat: parsing "abc": invalid syntax'
    )
    assert _labels(_run("| logfmt | d > 1s", "d=5"))["__error_details__"] == (
        'time: invalid duration "5"'
    )
    assert _labels(_run("| logfmt | s > 1MB", 's="12 parsecs"'))["__error_details__"] == (
        "unhandled size name: parsecs"
    )
    # go-humanize's sizes: commas in the number, a space before the unit.
    assert _run("| logfmt | s > 1MB", 's="1,024 KiB"', 's="999 kB"').lines == ['s="1,024 KiB"']
    # The first error stays.
    both = _run("| json | logfmt | n > 1", "n=abc")
    assert _labels(both)["__error__"] == "JSONParserErr"


def test_error_labels_are_filtered_and_dropped_like_labels() -> None:
    lines = ["{}", "not json"]
    assert _run('| json | __error__ = ""', *lines).lines == ["{}"]
    assert _run('| json | __error__ = "JSONParserErr"', *lines).lines == ["not json"]
    dropped = _run('| json | drop __error__="JSONParserErr"', *lines)
    assert dropped.lines == lines
    assert "__error__" not in _labels(dropped, 1)
    assert "__error_details__" in _labels(dropped, 1)
    kept = _run("| json | keep app", *lines)
    assert set(_labels(kept, 1)) == {"app", "__error__", "__error_details__"}


def test_drop_and_keep_with_matchers() -> None:
    found = _run('| logfmt | drop a="1", b=~"x.*"', "a=1 b=y c=3")
    assert _labels(found) == {"app": "web", "level": "stream-level", "b": "y", "c": "3"}
    kept = _run('| logfmt | keep a, b="x"', "a=1 b=y c=3")
    assert _labels(kept) == {"a": "1"}


def test_templates_read_every_kind_of_label_and_the_error() -> None:
    found = _run('| json | line_format "{{.app}} {{.k}} {{.__error__}}|{{.none}}"', '{"k":1}', "x")
    assert found.lines == ["web 1 |", "web  JSONParserErr|"]
    # Every template of one label_format sees the labels as the stage found them.
    formatted = _run('| label_format a="{{.app}}!", b="{{.a}}?"', "x")
    assert _labels(formatted) == {"app": "web", "level": "stream-level", "a": "web!", "b": "?"}


def test_json_names() -> None:
    found = _labels(_run("| json", '{"1a":{"b-c":{" d ":true}},"e":null,"f":[1],"g.h":0.50}'))
    assert found == {
        "app": "web",
        "level": "stream-level",
        "_1a_b_c_d": "true",
        "g_h": "0.50",  # numbers as written
    }


def test_pattern_filters_test_the_first_occurrence() -> None:
    lines = ["a error b", "error b", "x error", "error"]
    assert _run('|> "<_> error <_>"', *lines).lines == ["a error b"]
    assert _run('|> "error <_>"', *lines).lines == ["a error b", "error b"]
    assert _run('|> "<_> error"', *lines).lines == ["x error"]
    assert _run('!> "<_> error"', *lines).lines == ["a error b", "error b", "error"]


def test_ip_line_filters() -> None:
    lines = ["from 192.168.1.10 ok", "to ::1 now", "v 1.2.3", "at 2001:db8::1]"]
    assert _run('|= ip("192.168.0.0/16")', *lines).lines == [lines[0]]
    assert _run('|= ip("::1")', *lines).lines == [lines[1]]
    assert _run('|= ip("2001:db8::/32")', *lines).lines == [lines[3]]
    assert _run('!= ip("192.168.1.10")', *lines).lines == lines[1:]


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        ('| regexp "(a)"', "at least one named capture must be supplied"),
        ('| regexp "(?P<x>a"', "error parsing regexp"),
        ('| json x="a..b"', "cannot parse expression [a..b]"),
        ('|= ip("nope")', 'ip: invalid pattern: "nope"'),
        ('| logfmt x="a.b"', "cannot parse expression [a.b]"),
        ('| x =~ "\\\\pL"', "not supported by otelite"),
        ('| line_format "{{ .a "', "invalid line template: template: line:1: "),
        ('| label_format b="{{ .a "', "invalid template for label 'b': template: label:1: "),
    ],
)
def test_bad_stages_fail_before_reading(pipeline: str, message: str) -> None:
    query = parse('{app="web"} ' + pipeline)
    assert isinstance(query, LogQuery)
    with pytest.raises(InvalidRequest, match=message.replace("[", "\\[").replace("(", "\\(")):
        compile_stages((*query.line_filters, *query.stages))

"""LogQL's template language as Go's text/template runs it for Loki: each row is a
template, the labels and line it formats, and the text Go would write.

Expected outputs are written by hand from Go's text/template documentation and Loki's
(docs/sources/query/template_functions.md); rows taken from Loki's documentation or its
tests (pkg/logql/log/fmt_test.go) say so.
"""

from __future__ import annotations

import pytest

from otelite.errors import InvalidRequest
from otelite.query.logql import ParseError
from otelite.query.logql._template import Template, TemplateError, compile_template

TS = 1_656_331_200_000_000_000  # 2022-06-27T12:00:00Z


def render(text: str, labels: dict[str, str] | None = None, line: str = "a line") -> str:
    return compile_template(text).render(labels or {}, line, TS)


@pytest.mark.parametrize(
    ("template", "labels", "expected"),
    [
        ("plain text", {}, "plain text"),
        ("", {}, ""),
        ("{{.foo}}", {"foo": "bar"}, "bar"),
        ("{{.foo}}  ", {"foo": "bar"}, "bar  "),  # fmt_test.go "simple key template with space"
        ("{{.missing}}", {"foo": "bar"}, ""),  # missingkey=zero on map[string]string
        ("foo {{.foo | ToUpper }} buzz{{  .bar  }}", {"foo": "blip", "bar": "blop"},
         "foo BLIP buzzblop"),  # fmt_test.go "function"
        ("{{ .a }}-{{ .b }}", {"a": "1", "b": "2"}, "1-2"),
        ("a {{- .x -}} b", {"x": "X"}, "aXb"),
        ("a  \n {{- .x }} b", {"x": "X"}, "aX b"),
        ("a {{ .x -}} \n\t b", {"x": "X"}, "a Xb"),
        ("{{-3}}", {}, "-3"),  # no space after the dash: a number, not a trim marker
        ("a {{/* a comment */}} b", {}, "a  b"),
        ("a {{- /* trimmed */ -}} b", {}, "ab"),
        ("{{ .a\n| upper }}", {"a": "x"}, "X"),  # actions may span lines
        ("{{ $.a }}", {"a": "x"}, "x"),
        ("{{ . }}", {"b": "2", "a": "1"}, "map[a:1 b:2]"),
        ('{{ index . "a-b" }}', {"a-b": "v"}, "v"),  # labels a field cannot name
        ('{{ index . "none" }}', {}, ""),
    ],
)  # fmt: skip
def test_text_actions_and_labels(template: str, labels: dict[str, str], expected: str) -> None:
    assert render(template, labels) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ 1 }}", "1"),
        ("{{ -7 }}", "-7"),
        ("{{ 1.5 }}", "1.5"),
        ("{{ 1e6 }}", "1e+06"),  # %v of a float64
        ("{{ 100000.0 }}", "100000"),
        ("{{ 0.00001 }}", "1e-05"),
        ("{{ 0x1F }}", "31"),
        ("{{ 0o17 }} {{ 017 }} {{ 0b101 }}", "15 15 5"),
        ("{{ 1_000 }}", "1000"),
        ("{{ 'a' }} {{ '\\n' }}", "97 10"),
        ('{{ "tab\\there" }}', "tab\there"),
        ('{{ "\\u00e9\\x41" }}', "éA"),
        ("{{ `raw \\n` }}", "raw \\n"),
        ("{{ true }} {{ false }}", "true false"),
        ("{{ print nil }}", "<nil>"),
        ('{{ fromJson `{"a": [1, "x", null]}` }}', "map[a:[1 x <nil>]]"),
        ("{{ fromJson `12345678` }}", "1.2345678e+07"),  # JSON numbers are float64
        ("{{ fromJson `not json` }}", "<no value>"),  # sprig ignores the error
        ('{{ (fromJson `{"a": {"b": 2}}`).a.b }}', "2"),
        ("{{ (fromJson `{}`).missing }}", "<no value>"),
        ("{{ __timestamp__ }}", "2022-06-27 12:00:00 +0000 UTC"),
    ],
)
def test_constants_and_how_values_print(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "labels", "expected"),
    [
        # Loki's documentation, "Template pipeline syntax".
        ('{{ .path | replace " " "_" | trunc 5 | upper }}', {"path": "a b c d e f"}, "A_B_C"),
        ('{{ .a | printf "%s-%s" .b }}', {"a": "1", "b": "2"}, "2-1"),  # last argument
        ("{{ (upper .a) }}", {"a": "x"}, "X"),
        ('{{ printf "%s" (.a | upper) }}', {"a": "x"}, "X"),
        ('{{ len (printf "%s%s" .a .b) }}', {"a": "ab", "b": "c"}, "3"),
        ("{{ __line__ | upper }}", {}, "A LINE"),  # Loki's documentation, __line__
    ],
)
def test_pipelines_and_parentheses(template: str, labels: dict[str, str], expected: str) -> None:
    assert render(template, labels) == expected


@pytest.mark.parametrize(
    ("template", "labels", "expected"),
    [
        # Loki's documentation, "Template pipeline syntax".
        ('{{ if and (contains "he" "hello") (contains "llo" "hello") }} yes {{end}}', {},
         " yes "),
        ('{{ if contains "ErrTimeout" .err }} timeout {{else if contains "he" "hello"}} yes '
         "{{else}} no {{end}}", {"err": "x"}, " yes "),
        ('{{ if contains "ErrTimeout" .err }} timeout {{else if contains "he" "hello"}} yes '
         "{{else}} no {{end}}", {"err": "ErrTimeout!"}, " timeout "),
        ("{{ if .a }}set{{ else }}unset{{ end }}", {"a": ""}, "unset"),
        ("{{ if .a }}set{{ else }}unset{{ end }}", {"a": "0"}, "set"),  # a string, non-empty
        ('{{ if 0 }}y{{ else if 0.0 }}y{{ else if "" }}y{{ else }}n{{ end }}', {}, "n"),
        ("{{ if fromJson `[]` }}y{{ else }}n{{ end }}", {}, "n"),
        ("{{ if __timestamp__ }}y{{ end }}", {}, "y"),  # a struct is always true
        ("{{ with .a }}<{{ . }}>{{ end }}", {"a": "x"}, "<x>"),
        ("{{ with .a }}<{{ . }}>{{ else }}none{{ end }}", {}, "none"),
        ("{{ with .a }}1{{ else with .b }}2{{ . }}{{ end }}", {"b": "B"}, "2B"),
        ("{{ with $x := .a }}{{ $x }}{{ . }}{{ end }}", {"a": "v"}, "vv"),
        ("{{ and 1 0 2 }} {{ or 0 \"\" 3 }} {{ and 1 2 }} {{ or 0 \"\" }}", {}, "0 3 2 "),
        ("{{ or .a \"default\" }}", {}, "default"),
        # and/or stop at the deciding argument: the error in the second is never met.
        ("{{ or 1 (index 1 2) }}{{ and 0 (index 1 2) }}", {}, "10"),
        ("{{ not .a }} {{ not 1 }}", {}, "true false"),
    ],
)  # fmt: skip
def test_conditions(template: str, labels: dict[str, str], expected: str) -> None:
    assert render(template, labels) == expected


@pytest.mark.parametrize(
    ("template", "labels", "expected"),
    [
        ("{{ range fromJson .q }}[{{ . }}]{{ end }}", {"q": '["a","b"]'}, "[a][b]"),
        ("{{ range $i, $e := fromJson .q }}{{ $i }}={{ $e }};{{ end }}", {"q": '["a","b"]'},
         "0=a;1=b;"),
        ("{{ range $e := fromJson .q }}{{ $e }}{{ end }}", {"q": "[1,2]"}, "12"),
        # Maps in key order; $ is still the labels inside.
        ("{{ range $k, $v := fromJson .q }}{{ $k }}:{{ $v }}{{ $.x }} {{ end }}",
         {"q": '{"b":2,"a":1}', "x": "!"}, "a:1! b:2! "),
        ("{{ range . }}{{ . }},{{ end }}", {"b": "2", "a": "1"}, "1,2,"),
        ("{{ range fromJson .q }}x{{ else }}empty{{ end }}", {"q": "[]"}, "empty"),
        ("{{ range fromJson .q }}x{{ else }}empty{{ end }}", {"q": "null"}, "empty"),
        ("{{ range 3 }}{{ . }}{{ end }}", {}, "012"),  # Go 1.22 ranges over integers
        ("{{ range $i := 3 }}{{ $i }}{{ end }}", {}, "012"),
        ("{{ range 0 }}x{{ else }}none{{ end }}", {}, "none"),
        ("{{ range 5 }}{{ if eq . 3 }}{{ break }}{{ end }}{{ . }}{{ end }}", {}, "012"),
        ("{{ range 5 }}{{ if eq . 1 3 }}{{ continue }}{{ end }}{{ . }}{{ end }}", {}, "024"),
        # Loki's documentation, fromJson.
        ("{{ range $q := fromJson .queries }} {{ $q.query }} {{ end }}",
         {"queries": '[{"query":"up"},{"query":"rate(x[5m])"}]'}, " up  rate(x[5m]) "),
    ],
)  # fmt: skip
def test_range(template: str, labels: dict[str, str], expected: str) -> None:
    assert render(template, labels) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ $x := 1 }}{{ $x }}", "1"),
        ("{{ $x := 1 }}{{ $x = 2 }}{{ $x }}", "2"),
        # An assignment reaches the variable where it was declared.
        ("{{ $x := 1 }}{{ if true }}{{ $x = add $x 1 }}{{ end }}{{ $x }}", "2"),
        # A declaration in a block ends with the block; the outer variable is untouched.
        ("{{ $x := 1 }}{{ if true }}{{ $x := 5 }}{{ $x }}{{ end }}{{ $x }}", "51"),
        # `$x := add $x 1` reads the $x declared before it.
        ("{{ $x := 1 }}{{ if true }}{{ $x := add $x 1 }}{{ $x }}{{ end }}", "2"),
        ("{{ $s := 0 }}{{ range 4 }}{{ $s = add $s . }}{{ end }}{{ $s }}", "6"),
        ("{{ $ }}", "map[]"),
        ("{{ $x := __line__ }}{{ $x | len }}", "6"),
    ],
)
def test_variables(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ eq 1 1 }} {{ eq 1 2 }} {{ eq 1 2 1 }}", "true false true"),  # eq a b c: a==b||a==c
        ('{{ eq "a" "a" }} {{ ne "a" "b" }} {{ eq .missing "" }}', "true true true"),
        ("{{ lt 1 2 }} {{ le 2 2 }} {{ gt 1 2 }} {{ ge 2 2 }}", "true true false true"),
        ('{{ lt "a" "b" }} {{ lt 1.5 2.5 }}', "true true"),
        ("{{ eq (add 1 2) 3 }}", "true"),  # int64 and int are both integers
        ("{{ eq nil nil }} {{ eq .a nil }}", "true false"),
        ("{{ eq __timestamp__ __timestamp__ }}", "true"),
        ("{{ len .a }} {{ len `héllo` }} {{ len (fromJson `[1,2]`) }}", "0 6 2"),  # bytes
        ('{{ index (fromJson `[1,[2,3]]`) 1 0 }} {{ index "ab" 1 }}', "2 98"),
        ('{{ slice "hello" 1 3 }} {{ slice (fromJson `[1,2,3]`) 1 }}', "el [2 3]"),
        ('{{ print "a" 1 2 "b" }}|{{ println "a" 1 }}|', "a1 2b|a 1\n|"),
        ("{{ html \"<a href='x'>&</a>\" }}", "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"),
        ('{{ js "it\'s <b>" }}', "it\\'s \\u003Cb\\u003E"),
        ('{{ urlquery "a b&c" }}', "a+b%26c"),
    ],
)
def test_builtins(template: str, expected: str) -> None:
    assert render(template) == expected


@pytest.mark.parametrize(
    ("template", "used", "reads_all"),
    [
        ("plain", set(), False),
        ("{{ .a }} {{ .b | upper }}", {"a", "b"}, False),
        ("{{ .a.b }}", {"a"}, False),
        ('{{ if eq .level "error" }}{{ .msg }}{{ end }}', {"level", "msg"}, False),
        ("{{ range fromJson .q }}{{ .x }}{{ end }}", {"q", "x"}, False),  # as Loki: a superset
        ("{{ $.a }}", {"a"}, False),
        ("{{ __line__ }}", set(), False),
        ("{{ . }}", set(), True),
        ('{{ index . "a-b" }}', set(), True),
        ("{{ $ }}", set(), True),
        ("{{ range . }}{{ end }}", set(), True),
    ],
)
def test_labels_used(template: str, used: set[str], reads_all: bool) -> None:
    compiled = compile_template(template)
    assert compiled.labels_used == frozenset(used)
    assert compiled.reads_all_labels is reads_all


def test_compiles_once_and_renders_many_lines() -> None:
    template = compile_template("{{ .level | upper }}: {{ __line__ }} ({{ __timestamp__.Unix }})")
    assert isinstance(template, Template)
    lines = [
        template.render({"level": level}, f"line {n}", n * 1_000_000_000)
        for n, level in enumerate(["info", "warn"])
    ]
    assert lines == ["INFO: line 0 (0)", "WARN: line 1 (1)"]


def test_errors_are_invalid_requests_with_a_position() -> None:
    with pytest.raises(TemplateError) as raised:
        compile_template("ok\n{{ .a | nope }}")
    error = raised.value
    assert isinstance(error, InvalidRequest)
    assert isinstance(error, ParseError)
    assert (error.line, error.column) == (2, 9)
    assert error.message == 'template: line:2: function "nope" not defined'
    assert str(error) == error.message + "\n{{ .a | nope }}\n        ^"
    assert not error.executing


def test_execution_errors_are_one_line_for_error_details() -> None:
    template = compile_template("{{ .a }}\n{{ upper 1 }}", name="label")
    with pytest.raises(TemplateError) as raised:
        template.render({}, "", 0)
    error = raised.value
    assert error.executing
    assert str(error) == error.message
    assert error.message == (
        'template: label:2:9: executing "label" at <1>: expected string; found 1'
    )
    assert (error.line, error.column) == (2, 10)

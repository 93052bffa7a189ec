"""Whatever a query holds, a template fails only as a TemplateError: compiling random
text, and running random calls of every function on awkward arguments, raises nothing
else (so the engine can turn every failure into ``__error__=TemplateFormatErr``)."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from otelite.query.logql._template import TemplateError, compile_template
from otelite.query.logql._template_builtins import BUILTINS
from otelite.query.logql._template_functions import LOKI_FUNCTIONS

_WORDS = [
    "{{", "}}", "{{- ", " -}}", " ", ".a", ".", "$", "$x", ":=", "=", "|", "(", ")", ",",
    "if", "else", "end", "range", "with", "break", "continue", "nil", "true", "1", "-1.5",
    "'a'", '"s"', "`r`", "\n", "/*", "*/", "upper", "eq", "printf", "__line__",
]  # fmt: skip
_CONSTANTS = [
    "0", "-3", "2.5", "1e3", "9223372036854775807", "'x'", "true", "nil", ".a", ".", "$",
    '"x"', '"2006-01-02"', '"%d %s %v %5.2f %"', '"(a)(?i)b|["', '"3 kB"', '"1h"', '"UTC"',
    '"NaN"', '"1234567890"', '"-5"', '`{"a":[1,null]}`', "`[1,\"a\"]`", "__timestamp__",
]  # fmt: skip
_FUNCTIONS = sorted(BUILTINS) + sorted(LOKI_FUNCTIONS)


def _call(depth: int) -> st.SearchStrategy[str]:
    argument = st.sampled_from(_CONSTANTS)
    if depth < 2:
        argument = argument | _call(depth + 1).map(lambda call: f"({call})")
    return st.builds(
        lambda name, args: " ".join([name, *args]),
        st.sampled_from(_FUNCTIONS),
        st.lists(argument, max_size=3),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=16).map("".join))
def test_any_text_compiles_or_is_a_template_error(text: str) -> None:
    try:
        template = compile_template(text)
    except TemplateError:
        return
    with contextlib.suppress(TemplateError):
        assert isinstance(template.render({"a": "1"}, "line", 0), str)


@settings(max_examples=500, deadline=None)
@given(
    _call(0),
    st.sampled_from(["{{ %s }}", "{{ if %s }}y{{ end }}", "{{ range %s }}{{ . }}{{ end }}"]),
    st.sampled_from(["", "1", "abc", "-2", "3.5", "[1,2]", "2021-01-01"]),
    st.sampled_from([0, 1_234_567_890_123_456_789, -62_135_596_800 * 10**9]),
)
def test_any_call_renders_or_is_a_template_error(
    call: str, shape: str, label: str, timestamp: int
) -> None:
    template = compile_template(shape % call)  # every name is defined, every call parses
    try:
        assert isinstance(template.render({"a": label}, "line", timestamp), str)
    except TemplateError as error:
        assert error.executing

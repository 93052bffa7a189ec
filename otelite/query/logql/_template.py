"""The template language of LogQL's ``line_format`` and ``label_format``: Go's
``text/template`` with the functions Loki adds, compiled once and run per line.

``compile_template(text)`` reads a template as Loki does (``template.New(name)
.Option("missingkey=zero").Funcs(...).Parse(text)``) and gives a :class:`Template`;
``template.render(labels, line, timestamp_ns)`` formats one line. What is supported:

* text and actions, ``{{-`` and ``-}}`` trimming, ``{{/* comments */}}``;
* ``.label`` (a missing label is ``""``), ``.`` and ``$``, ``$x := ...`` and ``$x = ...``,
  pipelines ``{{ .a | upper }}``, parentheses, chained fields (``(fromJson .x).key``);
* ``if``/``else if``/``else``, ``with``/``else with``, ``range`` over lists, maps and
  integers with ``break`` and ``continue``;
* string (``"..."`` and raw), character, number, boolean and ``nil`` constants;
* Go's builtins (``and or not len index slice print printf println html js urlquery
  eq ne lt le gt ge``), with Go's typing (``eq "200" 200`` is an error);
* Loki's functions, sprig's among them, and ``__line__`` and ``__timestamp__``; Go time
  layouts (``"2006-01-02 15:04:05"``) and RE2 regular expressions.

Left out: ``{{define}}``, ``{{template}}`` and ``{{block}}`` (refused with a message),
``call``, complex numbers, and methods of ``time.Time`` beyond the common ones. Go's
``Local`` zone is UTC here.

A template that does not parse raises :class:`TemplateError` from ``compile_template``;
one that fails on a line raises it from ``render``, and Loki's answer to that is the
line unchanged with ``__error__=TemplateFormatErr`` (the engine's part).
"""

from __future__ import annotations

from collections.abc import Mapping

from otelite.query.logql._template_ast import Action, Field, Node, Text
from otelite.query.logql._template_builtins import BUILTINS
from otelite.query.logql._template_errors import TemplateError
from otelite.query.logql._template_eval import CONTEXT_FUNCTIONS, UNSET, Run
from otelite.query.logql._template_exec import Compiler, Emit
from otelite.query.logql._template_functions import LOKI_FUNCTIONS
from otelite.query.logql._template_parser import parse

__all__ = ["Template", "TemplateError", "compile_template"]

_FUNCTIONS = {**BUILTINS, **LOKI_FUNCTIONS}
_NAMES = frozenset(_FUNCTIONS) | frozenset(CONTEXT_FUNCTIONS)


class Template:
    """A compiled template. ``labels_used`` are the labels it reads by name;
    ``reads_all_labels`` says it also reads the label map as a whole (``.``, ``$``,
    ``index . "a-b"``, ``range .``), so that every label must be at hand."""

    __slots__ = ("_emit", "_parts", "_slots", "labels_used", "name", "reads_all_labels", "text")

    def __init__(self, text: str, *, name: str = "line") -> None:
        nodes, slots = parse(text, name, _NAMES)
        compiler = Compiler(text, name, _FUNCTIONS)
        self.text = text
        self.name = name
        self._emit: Emit = compiler.block(nodes)
        self._slots = slots
        self._parts = _simple_parts(nodes)
        self.labels_used = frozenset(compiler.expressions.labels_used)
        self.reads_all_labels = compiler.expressions.reads_all_labels

    def render(self, labels: Mapping[str, str], line: str, timestamp_ns: int) -> str:
        """The template formatted for one log line; raises :class:`TemplateError` if Go
        would fail to execute it."""
        if self._parts is not None:
            # Text and plain labels only, the usual line_format: no machinery needed.
            return "".join(
                [part if literal else labels.get(part, "") for literal, part in self._parts]
            )
        variables: list[object] = [UNSET] * self._slots
        variables[0] = labels
        out: list[str] = []
        self._emit(Run(labels, line, timestamp_ns, variables), labels, out)
        return "".join(out)

    def __repr__(self) -> str:
        return f"compile_template({self.text!r}, name={self.name!r})"


def compile_template(text: str, *, name: str = "line") -> Template:
    """Compile ``text`` once for :meth:`Template.render` to run per line. ``name`` is the
    one Go's messages give the template: Loki says ``line`` in ``line_format`` and
    ``label`` in ``label_format``. Raises :class:`TemplateError` if it does not parse."""
    return Template(text, name=name)


def _simple_parts(nodes: tuple[Node, ...]) -> tuple[tuple[bool, str], ...] | None:
    # (True, text) and (False, label) if the template is only text and {{ .label }}.
    parts: list[tuple[bool, str]] = []
    for node in nodes:
        if isinstance(node, Text):
            parts.append((True, node.text))
            continue
        if not isinstance(node, Action) or node.pipeline.declarations:
            return None
        commands = node.pipeline.commands
        if len(commands) != 1 or len(commands[0].args) != 1:
            return None
        field = commands[0].args[0]
        if not isinstance(field, Field) or len(field.names) != 1:
            return None
        parts.append((False, field.names[0]))
    return tuple(parts)

"""A template's syntax tree → Python closures that format one log line each.

Statements become *emitters*, closures that append text to the output
(``(run, dot, out) -> None``); the expressions in them are compiled by
:class:`Expressions`. ``break`` and ``continue`` unwind to their ``range`` as exceptions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from otelite.query.logql._template_ast import Action, Break, If, Node, Range, Text, With
from otelite.query.logql._template_eval import Expressions, Run
from otelite.query.logql._template_fmt import format_value, print_value
from otelite.query.logql._template_values import Function, truth

__all__ = ["MAX_RANGE_STEPS", "Compiler", "Emit"]

MAX_RANGE_STEPS = 1_000_000  # range iterations per line, all loops together

Emit = Callable[[Run, object, list[str]], None]


class _Break(Exception):
    pass


class _Continue(Exception):
    pass


def _emit_nothing(run: Run, dot: object, out: list[str]) -> None:
    return None


class Compiler:
    """Compiles the statements of one template."""

    def __init__(self, text: str, name: str, functions: Mapping[str, Function]) -> None:
        self.expressions = Expressions(text, name, functions)

    def block(self, nodes: tuple[Node, ...]) -> Emit:
        emitters = [self.node(node) for node in nodes]
        if not emitters:
            return _emit_nothing
        if len(emitters) == 1:
            return emitters[0]

        def emit_all(run: Run, dot: object, out: list[str]) -> None:
            for emit in emitters:
                emit(run, dot, out)

        return emit_all

    def node(self, node: Node) -> Emit:
        if isinstance(node, Text):
            text = node.text
            return lambda run, dot, out: out.append(text)
        if isinstance(node, Action):
            return self.action(node)
        if isinstance(node, If | With):
            return self.condition(node)
        if isinstance(node, Range):
            return self.range(node)
        signal = _Break if isinstance(node, Break) else _Continue

        def leave(run: Run, dot: object, out: list[str]) -> None:
            raise signal

        return leave

    def action(self, node: Action) -> Emit:
        evaluate = self.expressions.pipeline(node.pipeline)
        if node.pipeline.declarations:

            def declare(run: Run, dot: object, out: list[str]) -> None:
                evaluate(run, dot)  # a declaration prints nothing

            return declare

        def emit_value(run: Run, dot: object, out: list[str]) -> None:
            value = evaluate(run, dot)
            out.append(value if type(value) is str else print_value(value))

        return emit_value

    def condition(self, node: If | With) -> Emit:
        evaluate = self.expressions.pipeline(node.pipeline)
        body = self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse is not None else _emit_nothing
        if isinstance(node, If):

            def emit_if(run: Run, dot: object, out: list[str]) -> None:
                if truth(evaluate(run, dot)):
                    body(run, dot, out)
                else:
                    orelse(run, dot, out)

            return emit_if

        def emit_with(run: Run, dot: object, out: list[str]) -> None:
            value = evaluate(run, dot)
            if truth(value):
                body(run, value, out)
            else:
                orelse(run, dot, out)

        return emit_with

    def range(self, node: Range) -> Emit:
        evaluate = self.expressions.pipeline(node.pipeline, declare=False)
        body = self.block(node.body)
        orelse = self.block(node.orelse) if node.orelse is not None else _emit_nothing
        slots = [variable.slot for variable in node.pipeline.declarations]
        fail, pipeline = self.expressions.fail, node.pipeline

        def emit_range(run: Run, dot: object, out: list[str]) -> None:
            value = evaluate(run, dot)
            items: Iterable[tuple[object, object]]
            if isinstance(value, list):
                items = enumerate(value)
            elif isinstance(value, Mapping):
                items = ((key, value[key]) for key in sorted(value))
            elif isinstance(value, int) and not isinstance(value, bool):
                if len(slots) > 1:
                    raise fail(
                        pipeline, f"can't use {value} to iterate over more than one variable"
                    )
                items = ((step, step) for step in range(value))
            elif value is None:
                items = ()  # nil ranges like an empty map
            else:
                raise fail(pipeline, f"range can't iterate over {format_value(value)}")
            ran = False
            for key, element in items:
                ran = True
                run.steps += 1
                if run.steps > MAX_RANGE_STEPS:
                    raise fail(pipeline, f"more than {MAX_RANGE_STEPS} range iterations")
                if slots:
                    run.variables[slots[-1]] = element
                    if len(slots) == 2:
                        run.variables[slots[0]] = key
                try:
                    body(run, element, out)
                except _Continue:
                    continue
                except _Break:
                    break
            if not ran:
                orelse(run, dot, out)

        return emit_range

"""Expressions of a template → Python closures: pipelines, commands, function calls,
fields, variables and constants.

Each expression becomes a closure once, when the template is compiled: an *evaluator*
gives a value from dot (``(run, dot) -> value``), a *command* also takes the value of
the pipeline stage before it (``_MISSING`` in the first stage). Go's rules that depend
only on the text (how many arguments a function takes, which Go type a constant becomes
for a parameter) are settled at compile time; the rest is checked as it runs, with Go's
messages, as a :class:`TemplateError` naming the node. Failures Go only finds when it
runs (``{{ upper 1 2 }}``) compile to closures that fail, so that they fail each line,
as in Loki, not the query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from otelite.query.logql._template_ast import (
    Bool,
    Chain,
    Command,
    Dot,
    Field,
    Identifier,
    Nil,
    Node,
    Number,
    Operand,
    Pipeline,
    String,
    Variable,
)
from otelite.query.logql._template_errors import TemplateError, execution_error
from otelite.query.logql._template_functions import TIME_METHODS
from otelite.query.logql._template_time import LOCAL, GoTime
from otelite.query.logql._template_values import (
    ANY,
    Function,
    GoError,
    JsonObject,
    truth,
    type_name,
)

__all__ = ["CONTEXT_FUNCTIONS", "UNSET", "Evaluator", "Expressions", "Run"]

CONTEXT_FUNCTIONS = ("__line__", "__timestamp__")  # Loki's: they read the line being formatted


class Run:
    """What formatting one line works on."""

    __slots__ = ("labels", "line", "steps", "timestamp_ns", "variables")

    def __init__(
        self, labels: Mapping[str, str], line: str, timestamp_ns: int, variables: list[object]
    ) -> None:
        self.labels = labels
        self.line = line
        self.timestamp_ns = timestamp_ns
        self.variables = variables
        self.steps = 0


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_MISSING = _Marker("<no previous stage>")
UNSET = _Marker("<unset variable>")

Evaluator = Callable[[Run, object], object]
CommandFn = Callable[[Run, object, object], object]
_TYPES: dict[str, type] = {"string": str, "int": int, "float64": float, "bool": bool}


class Expressions:
    """Compiles the expressions of one template; notes which labels they read."""

    def __init__(self, text: str, name: str, functions: Mapping[str, Function]) -> None:
        self.text = text
        self.name = name
        self.functions = functions
        self.labels_used: set[str] = set()
        self.reads_all_labels = False

    def fail(self, node: Node | Operand | Command, reason: str) -> TemplateError:
        return execution_error(self.text, self.name, node.pos, node.end, reason)

    def pipeline(self, pipeline: Pipeline, *, declare: bool = True) -> Evaluator:
        commands = [
            self.command(command, has_final=index > 0)
            for index, command in enumerate(pipeline.commands)
        ]
        if len(commands) == 1:
            only = commands[0]

            def evaluate(run: Run, dot: object) -> object:
                return only(run, dot, _MISSING)
        else:

            def evaluate(run: Run, dot: object) -> object:
                value: object = _MISSING
                for command in commands:
                    value = command(run, dot, value)
                return value

        if not declare or not pipeline.declarations:
            return evaluate
        variable = pipeline.declarations[0]
        slot, fail = variable.slot, self.fail

        def evaluate_and_set(run: Run, dot: object) -> object:
            value = evaluate(run, dot)
            if slot < 0:
                raise fail(variable, f"undefined variable: {variable.name}")
            run.variables[slot] = value
            return value

        return evaluate_and_set

    def command(self, command: Command, *, has_final: bool) -> CommandFn:
        first, args = command.args[0], command.args[1:]
        if isinstance(first, Identifier):
            return self.call(first, args, command, has_final=has_final)
        if isinstance(first, Field):
            self.labels_used.add(first.names[0])
            return self.fields(None, first.names, first, args, has_final=has_final)
        if isinstance(first, Chain):
            return self.fields(
                self.argument(first.operand, ANY), first.fields, first, args, has_final=has_final
            )
        if isinstance(first, Variable) and first.fields:
            return self.fields(self.variable(first), first.fields, first, args, has_final=has_final)
        if args or has_final:
            message = f"can't give argument to non-function {self.text[first.pos : first.end]}"
            return self.failing(first, message)
        if isinstance(first, Nil):
            return self.failing(first, "nil is not a command")
        evaluate = self.argument(first, ANY)
        return lambda run, dot, final: evaluate(run, dot)

    def failing(self, node: Node | Operand | Command, reason: str) -> CommandFn:
        # Go finds these when it runs the template, so they fail each line, not the query.
        def fail(run: Run, dot: object, final: object) -> object:
            raise self.fail(node, reason)

        return fail

    def call(
        self, name: Identifier, args: tuple[Operand, ...], command: Command, *, has_final: bool
    ) -> CommandFn:
        count = len(args) + has_final
        if name.name in CONTEXT_FUNCTIONS:
            if count:
                return self.failing(
                    name, f"wrong number of args for {name.name}: want 0 got {count}"
                )
            if name.name == "__line__":
                return lambda run, dot, final: run.line
            return lambda run, dot, final: GoTime(run.timestamp_ns, LOCAL)
        function = self.functions[name.name]
        fixed = len(function.params)
        if function.variadic is None and count != fixed:
            return self.failing(
                name, f"wrong number of args for {name.name}: want {fixed} got {count}"
            )
        if count < fixed:
            reason = f"wrong number of args for {name.name}: want at least {fixed} got {len(args)}"
            return self.failing(name, reason)
        kinds = [*function.params, *[function.variadic or ANY] * (count - fixed)]
        evaluators = [self.argument(arg, kind) for arg, kind in zip(args, kinds, strict=False)]
        if name.name in ("and", "or"):
            return self.short_circuit(evaluators, stop_when=name.name == "or")
        final_kind, final_node = (kinds[-1] if has_final else ANY), (args[-1] if args else name)
        body, fail, label = function.call, self.fail, name.name

        def run_call(run: Run, dot: object, final: object) -> object:
            values = [evaluate(run, dot) for evaluate in evaluators]
            if has_final:
                values.append(self.checked(final, final_kind, final_node))
            try:
                return body(*values)
            except GoError as error:
                raise fail(command, f"error calling {label}: {error}") from None
            except (ArithmeticError, ValueError) as error:  # a panic, in Go's terms
                raise fail(command, f"error calling {label}: {error}") from None

        return run_call

    def short_circuit(self, evaluators: list[Evaluator], *, stop_when: bool) -> CommandFn:
        # and/or: the first argument whose truth is stop_when, else the last one.
        def and_or(run: Run, dot: object, final: object) -> object:
            value: object = None
            for evaluate in evaluators:
                value = evaluate(run, dot)
                if truth(value) == stop_when:
                    return value
            return value if final is _MISSING else final

        return and_or

    def fields(
        self,
        receiver: Evaluator | None,
        names: tuple[str, ...],
        node: Operand,
        args: tuple[Operand, ...],
        *,
        has_final: bool,
    ) -> CommandFn:
        # .a.b (receiver None: dot), $x.a, (pipeline).a; arguments go to the last name.
        evaluators = [self.argument(arg, ANY) for arg in args]
        if receiver is None and len(names) == 1 and not args and not has_final:
            name = names[0]

            def label(run: Run, dot: object, final: object) -> object:
                if dot is run.labels:
                    return run.labels.get(name, "")
                return self.field(dot, name, node, None, run)

            return label

        def walk(run: Run, dot: object, final: object) -> object:
            value = dot if receiver is None else receiver(run, dot)
            for name in names[:-1]:
                value = self.field(value, name, node, None, run)
            call_args = [evaluate(run, dot) for evaluate in evaluators]
            if final is not _MISSING:
                call_args.append(final)
            return self.field(value, names[-1], node, call_args if has_final or args else None, run)

        return walk

    def field(
        self, value: object, name: str, node: Operand, args: list[object] | None, run: Run
    ) -> object:
        """Go's evalField: a method of a time, a key of a map (labels or JSON)."""
        if value is None:
            return None  # a field of nil is nil, as the option missingkey=zero has it
        if isinstance(value, GoTime):
            method = TIME_METHODS.get(name)
            if method is None:
                raise self.fail(node, f"can't evaluate field {name} in type time.Time")
            given = args or []
            if len(given) != len(method.params):
                counts = f"want {len(method.params)} got {len(given)}"
                raise self.fail(node, f"wrong number of args for {name}: {counts}")
            checked = [
                self.checked(arg, kind, node)
                for arg, kind in zip(given, method.params, strict=True)
            ]
            return method.call(value, *checked)
        if isinstance(value, Mapping):
            if args is not None:
                raise self.fail(node, f"{name} is not a method but has arguments")
            if isinstance(value, JsonObject):
                return value.get(name)
            return value.get(name, "")
        raise self.fail(node, f"can't evaluate field {name} in type {type_name(value)}")

    # -- arguments ------------------------------------------------------------------

    def checked(self, value: object, kind: str, node: Operand | Identifier) -> object:
        """Go's validateType: ``value`` as an argument of Go type ``kind``."""
        if kind == ANY:
            return value
        expected = _TYPES.get(kind, GoTime)
        if type(value) is expected or (expected is GoTime and isinstance(value, GoTime)):
            return value
        if value is None:
            raise self.fail(node, f"invalid value; expected {kind}")
        raise self.fail(node, f"wrong type for value; expected {kind}; got {type_name(value)}")

    def variable(self, node: Variable) -> Evaluator:
        slot, name, fail = node.slot, node.name, self.fail
        if slot == 0:
            if node.fields:
                self.labels_used.add(node.fields[0])
            else:
                self.reads_all_labels = True

        def read(run: Run, dot: object) -> object:
            value = run.variables[slot] if slot >= 0 else UNSET
            if value is UNSET:
                raise fail(node, f"undefined variable: {name}")
            return value

        return read

    def argument(self, node: Operand, kind: str) -> Evaluator:
        """An evaluator of ``node`` as an argument of Go type ``kind``."""
        if isinstance(node, Bool | String | Number | Nil):
            return self.constant(node, kind)
        inner: Evaluator
        if isinstance(node, Dot):
            self.reads_all_labels = True
            inner = _dot
        elif isinstance(node, Variable) and not node.fields:
            inner = self.variable(node)
        elif isinstance(node, Pipeline):
            inner = self.pipeline(node)
        else:
            command = self.command(Command(node.pos, node.end, (node,)), has_final=False)
            inner = lambda run, dot: command(run, dot, _MISSING)  # noqa: E731
        if kind == ANY:
            return inner
        checked = self.checked
        return lambda run, dot: checked(inner(run, dot), kind, node)

    def constant(self, node: Bool | String | Number | Nil, kind: str) -> Evaluator:
        text = self.text[node.pos : node.end]
        value: object
        if kind == ANY:
            if isinstance(node, Number):
                if node.unsigned_only:
                    return self.evaluator_failing(node, f"{text} overflows int")
                value = _ideal(node)
            else:
                value = None if isinstance(node, Nil) else node.value
        elif isinstance(node, Nil):
            return self.evaluator_failing(node, f"cannot assign nil to {kind}")
        else:
            value = _typed_constant(node, kind)
        if value is _MISSING:
            expected = {"string": "string", "bool": "bool", "int": "integer", "float64": "float"}
            if kind not in expected:
                return self.evaluator_failing(node, f"can't handle {text} for arg of type {kind}")
            return self.evaluator_failing(node, f"expected {expected[kind]}; found {text}")
        return lambda run, dot: value

    def evaluator_failing(self, node: Operand, reason: str) -> Evaluator:
        def fail(run: Run, dot: object) -> object:
            raise self.fail(node, reason)

        return fail


def _typed_constant(node: Bool | String | Number, kind: str) -> object:
    # Go's evalArg for a constant: a string only for a string, an integral number for an
    # int, any number for a float64; _MISSING where Go refuses.
    if kind == "string":
        return node.value if isinstance(node, String) else _MISSING
    if kind == "bool":
        return node.value if isinstance(node, Bool) else _MISSING
    if isinstance(node, Number) and kind == "int" and node.int_value is not None:
        return node.int_value
    if isinstance(node, Number) and kind == "float64" and node.float_value is not None:
        return node.float_value
    return _MISSING


def _dot(run: Run, dot: object) -> object:
    return dot


def _ideal(node: Number) -> object:
    # A constant with no parameter type to guide it: a float if it is spelled as one
    # (not hexadecimal, not a character), else an int. Go's own quirks included.
    text = node.text
    hexadecimal = text[:2] in ("0x", "0X") and "p" not in text.lower()
    spelled_float = any(ch in text for ch in ".eEpP") and not hexadecimal
    if node.float_value is not None and spelled_float and not text.startswith("'"):
        return node.float_value
    return node.int_value

"""A LogQL template's tokens → its syntax tree, with Go's ``text/template`` grammar and
Go's parse errors (``unexpected EOF``, ``function "foo" not defined``, ``undefined
variable "$x"``, ``missing value for if`` ...).

The grammar, as Go's parser reads it::

    list      (text | action)*
    action    {{ pipeline }} | {{ if pipeline }} list ({{ else if ... }} | {{ else }} list)?
              {{ end }}  (likewise with, and range without else-if) | {{ break }} |
              {{ continue }} | {{ /* comment */ }}
    pipeline  ($x := | $x = | $i, $e :=)? command (| command)*
    command   operand (space operand)*
    operand   term .field*
    term      literal | function | . | .field | $var | ( pipeline )

Variables are scoped as Go scopes them: to the end of the control structure (or the
template) that declares them. Each declaration gets a slot number. ``{{define}}``,
``{{template}}`` and ``{{block}}`` are refused: a LogQL template is a single template.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, replace

from otelite.query.logql._strconv import (
    parse_float,
    parse_int,
    quote,
    unquote,
    unquote_char,
)
from otelite.query.logql._template_ast import (
    Action,
    Bool,
    Break,
    Chain,
    Command,
    Continue,
    Dot,
    Field,
    Identifier,
    If,
    Nil,
    Node,
    Number,
    Operand,
    Pipeline,
    Range,
    String,
    Text,
    Variable,
    With,
)
from otelite.query.logql._template_errors import TemplateError, compile_error
from otelite.query.logql._template_lexer import Kind, Token, tokenize

__all__ = ["MAX_DEPTH", "parse"]

MAX_DEPTH = 100  # nested parentheses and control structures; Python's stack is shallow
_OPERAND_START = frozenset(
    {
        Kind.BOOL, Kind.CHAR_CONSTANT, Kind.COMPLEX, Kind.DOT, Kind.FIELD, Kind.IDENTIFIER,
        Kind.NUMBER, Kind.NIL, Kind.STRING, Kind.VARIABLE, Kind.LEFT_PAREN,
    }
)  # fmt: skip
_LITERALS = (Bool, Dot, Nil, Number, String)


@dataclass(frozen=True, slots=True)
class _End:
    pos: int

    def __str__(self) -> str:
        return "{{end}}"


@dataclass(frozen=True, slots=True)
class _Else:
    pos: int

    def __str__(self) -> str:
        return "{{else}}"


def parse(text: str, name: str, functions: Container[str]) -> tuple[tuple[Node, ...], int]:
    """The nodes of ``text`` and how many variable slots they use; raises
    :class:`TemplateError` with Go's message."""
    return _Parser(text, name, functions).parse()


class _Parser:
    def __init__(self, text: str, name: str, functions: Container[str]) -> None:
        self.text = text
        self.name = name
        self.functions = functions
        self.tokens = tokenize(text)
        self.at = 0
        self.last = 0  # where the token read last starts: errors name its line
        self.variables: list[tuple[str, int]] = [("$", 0)]
        self.pending: list[tuple[str, int]] = []  # declared by pipelines still being read
        self.slots = 1
        self.range_depth = 0
        self.depth = 0

    def error(self, reason: str, offset: int | None = None) -> TemplateError:
        return compile_error(self.text, self.name, self.last if offset is None else offset, reason)

    # -- the token cursor -----------------------------------------------------------

    def next(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        self.last = token.pos
        if token.kind is Kind.ERROR:
            raise self.error(token.value)
        return token

    def peek(self) -> Token:
        return self.tokens[self.at]

    def next_non_space(self) -> Token:
        token = self.next()
        while token.kind is Kind.SPACE:
            token = self.next()
        return token

    def peek_non_space(self) -> Token:
        # Like Go's: the spaces are consumed, the token after them is not.
        while self.tokens[self.at].kind is Kind.SPACE:
            self.at += 1
        return self.tokens[self.at]

    def expect(self, kind: Kind, context: str) -> Token:
        token = self.next_non_space()
        if token.kind is not kind:
            raise self.unexpected(token, context)
        return token

    def unexpected(self, token: Token, context: str) -> TemplateError:
        return self.error(f"unexpected {token.describe()} in {context}")

    # -- lists and actions ----------------------------------------------------------

    def parse(self) -> tuple[tuple[Node, ...], int]:
        nodes: list[Node] = []
        while self.peek().kind is not Kind.EOF:
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                raise self.error(f"unexpected {node}")
            nodes.append(node)
        return tuple(nodes), self.slots

    def item_list(self) -> tuple[tuple[Node, ...], _End | _Else]:
        nodes: list[Node] = []
        while self.peek_non_space().kind is not Kind.EOF:
            node = self.text_or_action()
            if isinstance(node, _End | _Else):
                return tuple(nodes), node
            nodes.append(node)
        raise self.error("unexpected EOF", self.peek().pos)

    def text_or_action(self) -> Node | _End | _Else:
        token = self.next_non_space()
        if token.kind is Kind.TEXT:
            return Text(token.pos, token.end, token.value)
        if token.kind is Kind.LEFT:
            return self.action()
        raise self.unexpected(token, "input")

    def action(self) -> Node | _End | _Else:
        token = self.next_non_space()
        kind = token.kind
        if kind in (Kind.DEFINE, Kind.TEMPLATE, Kind.BLOCK):
            raise self.error(
                f"{{{{{token.value}}}}} is not supported: a LogQL template stands alone"
            )
        if kind in (Kind.BREAK, Kind.CONTINUE):
            closing = self.next_non_space()
            if closing.kind is not Kind.RIGHT:
                raise self.unexpected(closing, f"{{{{{token.value}}}}}")
            if not self.range_depth:
                raise self.error(f"{{{{{token.value}}}}} outside {{{{range}}}}")
            node = Break if kind is Kind.BREAK else Continue
            return node(token.pos, token.end)
        if kind is Kind.ELSE:
            after = self.peek_non_space()
            if after.kind in (Kind.IF, Kind.WITH):
                return _Else(after.pos)  # "else if": the "if" is read as a nested if
            return _Else(self.expect(Kind.RIGHT, "else").pos)
        if kind is Kind.END:
            return _End(self.expect(Kind.RIGHT, "end").pos)
        if kind in (Kind.IF, Kind.WITH, Kind.RANGE):
            return self.control(token)
        self.at -= 1
        pipeline = self.pipeline("command", Kind.RIGHT)
        return Action(pipeline.pos, pipeline.end, pipeline)

    def control(self, keyword: Token) -> If | With | Range:
        context = keyword.value
        self.enter()
        scope = len(self.variables)
        pipeline = self.pipeline(context, Kind.RIGHT)
        self.range_depth += context == "range"
        body, after = self.item_list()
        self.range_depth -= context == "range"
        orelse: tuple[Node, ...] | None = None
        if isinstance(after, _Else):
            follows = self.peek().kind
            if (context, follows) in (("if", Kind.IF), ("with", Kind.WITH)):
                orelse = (self.control(self.next()),)  # one {{end}} closes the chain
            else:
                orelse, closing = self.item_list()
                if not isinstance(closing, _End):
                    raise self.error(f"expected end; found {closing}")
        del self.variables[scope:]
        self.depth -= 1
        if context == "if":
            return If(keyword.pos, pipeline.end, pipeline, body, orelse)
        if context == "with":
            return With(keyword.pos, pipeline.end, pipeline, body, orelse)
        return Range(keyword.pos, pipeline.end, pipeline, body, orelse)

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("max expression depth exceeded")

    # -- pipelines and commands -----------------------------------------------------

    def pipeline(self, context: str, end: Kind) -> Pipeline:
        start = self.peek_non_space().pos
        mark = len(self.pending)
        declarations, assign = self.declarations(context)
        commands: list[Command] = []
        while True:
            token = self.next_non_space()
            if token.kind is end:
                break
            if token.kind not in _OPERAND_START:
                raise self.unexpected(token, context)
            self.at -= 1
            commands.append(self.command())
        if not commands:
            raise self.error(f"missing value for {context}")
        for stage, command in enumerate(commands[1:], start=2):
            if isinstance(command.args[0], _LITERALS):
                raise self.error(f"non executable command in pipeline stage {stage}")
        # A declaration takes effect after its pipeline: `$x := add $x 1` reads the outer $x.
        self.variables.extend(self.pending[mark:])
        del self.pending[mark:]
        finish = token.end if end is Kind.RIGHT_PAREN else commands[-1].end
        return Pipeline(start, finish, declarations, assign, tuple(commands))

    def declarations(self, context: str) -> tuple[tuple[Variable, ...], bool]:
        declared: list[Variable] = []
        while True:
            rewind = self.at
            variable = self.peek_non_space()
            if variable.kind is not Kind.VARIABLE:
                return tuple(declared), False
            self.next()
            following = self.peek_non_space()
            if following.kind in (Kind.DECLARE, Kind.ASSIGN):
                self.next_non_space()
                assign = following.kind is Kind.ASSIGN
                declared.append(self.declare(variable, assign=assign))
                return tuple(declared), assign
            if following.kind is Kind.CHAR and following.value == ",":
                self.next_non_space()
                declared.append(self.declare(variable, assign=False))
                if context == "range" and len(declared) < 2:
                    if self.peek_non_space().kind in (Kind.VARIABLE, Kind.RIGHT, Kind.RIGHT_PAREN):
                        continue
                    raise self.error("range can only initialize variables")
                raise self.error(f"too many declarations in {context}")
            self.at = rewind  # "$x foo": $x is an argument, not a declaration
            return tuple(declared), False

    def declare(self, token: Token, *, assign: bool) -> Variable:
        if assign:
            slot = self.resolve(token.value)
            slot = -1 if slot is None else slot  # Go fails when it runs: undefined variable
        else:
            slot, self.slots = self.slots, self.slots + 1
        self.pending.append((token.value, slot))
        return Variable(token.pos, token.end, token.value, (), slot)

    def resolve(self, name: str) -> int | None:
        for known, slot in reversed(self.variables):
            if known == name:
                return slot
        return None

    def command(self) -> Command:
        args: list[Operand] = []
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                args.append(operand)
            token = self.next()
            if token.kind is Kind.SPACE:
                continue
            if token.kind in (Kind.RIGHT, Kind.RIGHT_PAREN):
                self.at -= 1
            elif token.kind is not Kind.PIPE:
                raise self.error(f"unexpected {token.describe()} in operand")
            break
        if not args:
            raise self.error("empty command")
        return Command(args[0].pos, args[-1].end, tuple(args))

    def operand(self) -> Operand | None:
        node = self.term()
        if node is None or self.peek().kind is not Kind.FIELD:
            return node
        fields: list[str] = []
        while self.peek().kind is Kind.FIELD:
            fields.append(self.next().value[1:])
        end = self.tokens[self.at - 1].end
        if isinstance(node, Field):
            return Field(node.pos, end, node.names + tuple(fields))
        if isinstance(node, Variable):
            return Variable(node.pos, end, node.name, node.fields + tuple(fields), node.slot)
        if isinstance(node, _LITERALS):
            raise self.error(f"unexpected . after term {quote(self.text[node.pos : node.end])}")
        return Chain(node.pos, end, node, tuple(fields))

    def term(self) -> Operand | None:
        token = self.next_non_space()
        kind, pos, end = token.kind, token.pos, token.end
        if kind is Kind.IDENTIFIER:
            if token.value not in self.functions:
                raise self.error(f"function {quote(token.value)} not defined")
            return Identifier(pos, end, token.value)
        if kind is Kind.DOT:
            return Dot(pos, end)
        if kind is Kind.NIL:
            return Nil(pos, end)
        if kind is Kind.VARIABLE:
            return self.use(token)
        if kind is Kind.FIELD:
            return Field(pos, end, (token.value[1:],))
        if kind is Kind.BOOL:
            return Bool(pos, end, token.value == "true")
        if kind in (Kind.NUMBER, Kind.CHAR_CONSTANT, Kind.COMPLEX):
            return self.number(token)
        if kind is Kind.STRING:
            value = unquote(token.value)
            if value is None:
                raise self.error("invalid syntax")
            return String(pos, end, value)
        if kind is Kind.LEFT_PAREN:
            self.enter()
            pipeline = self.pipeline("parenthesized pipeline", Kind.RIGHT_PAREN)
            self.depth -= 1
            return replace(pipeline, pos=pos)
        self.at -= 1
        return None

    def use(self, token: Token) -> Variable:
        slot = self.resolve(token.value)
        if slot is None:
            pending = [s for name, s in self.pending if name == token.value]
            if not pending:
                raise self.error(f"undefined variable {quote(token.value)}")
            slot = pending[-1]  # declared by this very pipeline: unset when it runs
        return Variable(token.pos, token.end, token.value, (), slot)

    def number(self, token: Token) -> Number:
        text, pos, end = token.value, token.pos, token.end
        if token.kind is Kind.CHAR_CONSTANT:
            step = unquote_char(text, 1, "'") if len(text) > 2 else None
            if step is None:
                raise self.error("invalid syntax")
            data, after = step
            if text[after:] != "'":
                raise self.error(f"malformed character constant: {text}")
            code = data[0] if len(data) == 1 else ord(data.decode("utf-8"))
            return Number(pos, end, text, code, float(code), unsigned_only=False)
        if token.kind is Kind.COMPLEX or text.endswith("i"):
            raise self.error(f"complex constants are not supported: {text}")
        integer = parse_int(text)
        if integer is not None:
            return Number(pos, end, text, integer, float(integer), unsigned_only=False)
        unsigned = parse_int(text, unsigned=True)
        if unsigned is not None:
            return Number(pos, end, text, None, float(unsigned), unsigned_only=True)
        value = parse_float(text)
        if value is None:
            raise self.error(f"illegal number syntax: {quote(text)}")
        if not any(ch in text for ch in ".eEpP"):
            raise self.error(f"integer overflow: {quote(text)}")
        whole = int(value) if value.is_integer() and -(2.0**63) <= value < 2.0**63 else None
        return Number(pos, end, text, whole, value, unsigned_only=False)

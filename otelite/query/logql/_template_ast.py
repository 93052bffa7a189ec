"""The syntax tree of a LogQL template (Go's ``text/template/parse`` nodes).

Every node is a frozen dataclass with ``pos`` and ``end``, the offsets of its text in
the template: an error names the node by that text, as Go names it by the node.
Variables carry the *slot* the parser gave them (``$`` is slot 0), so that evaluation
reads a list instead of searching a stack of names.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Action",
    "Bool",
    "Break",
    "Chain",
    "Command",
    "Continue",
    "Dot",
    "Field",
    "Identifier",
    "If",
    "Nil",
    "Node",
    "Number",
    "Operand",
    "Pipeline",
    "Range",
    "String",
    "Text",
    "Variable",
    "With",
]


@dataclass(frozen=True, slots=True)
class Text:
    pos: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Field:
    """``.a.b``: fields (or methods, or map keys) of dot."""

    pos: int
    end: int
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Variable:
    """``$x`` or ``$x.a.b``; ``slot`` -1 for a variable assigned but never declared."""

    pos: int
    end: int
    name: str
    fields: tuple[str, ...]
    slot: int


@dataclass(frozen=True, slots=True)
class Chain:
    """``(pipeline).a``, ``fn.a``: fields of what an operand gives."""

    pos: int
    end: int
    operand: Operand
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Identifier:
    """A function's name."""

    pos: int
    end: int
    name: str


@dataclass(frozen=True, slots=True)
class Dot:
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Nil:
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Bool:
    pos: int
    end: int
    value: bool


@dataclass(frozen=True, slots=True)
class Number:
    """A number constant, with every Go type it fits (Go picks by the parameter)."""

    pos: int
    end: int
    text: str
    int_value: int | None  # fits an int64
    float_value: float | None  # readable as a float64
    unsigned_only: bool  # fits a uint64 but not an int64


@dataclass(frozen=True, slots=True)
class String:
    pos: int
    end: int
    value: str


@dataclass(frozen=True, slots=True)
class Command:
    """An operand and its arguments: ``upper .a``, ``.a``, ``(pipeline)``."""

    pos: int
    end: int
    args: tuple[Operand, ...]


@dataclass(frozen=True, slots=True)
class Pipeline:
    """``$x := cmd | cmd ...`` (``assign`` for ``=``); also a parenthesised operand."""

    pos: int
    end: int
    declarations: tuple[Variable, ...]
    assign: bool
    commands: tuple[Command, ...]


Operand = Field | Variable | Chain | Identifier | Dot | Nil | Bool | Number | String | Pipeline


@dataclass(frozen=True, slots=True)
class Action:
    pos: int
    end: int
    pipeline: Pipeline


@dataclass(frozen=True, slots=True)
class If:
    pos: int
    end: int
    pipeline: Pipeline
    body: tuple[Node, ...]
    orelse: tuple[Node, ...] | None


@dataclass(frozen=True, slots=True)
class With:
    pos: int
    end: int
    pipeline: Pipeline
    body: tuple[Node, ...]
    orelse: tuple[Node, ...] | None


@dataclass(frozen=True, slots=True)
class Range:
    pos: int
    end: int
    pipeline: Pipeline
    body: tuple[Node, ...]
    orelse: tuple[Node, ...] | None


@dataclass(frozen=True, slots=True)
class Break:
    pos: int
    end: int


@dataclass(frozen=True, slots=True)
class Continue:
    pos: int
    end: int


Node = Text | Action | If | With | Range | Break | Continue

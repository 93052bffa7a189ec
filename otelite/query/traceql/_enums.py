"""The named constants of TraceQL: scopes, intrinsics, literals' enums and operators.

Each member's value is its canonical TraceQL spelling, so that writing one back is a
lookup. ``Status`` and ``Kind`` members are also literal nodes of the syntax tree.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "AggregateFunction",
    "BinaryOp",
    "Intrinsic",
    "Kind",
    "MetricsFunction",
    "Scope",
    "SpansetOp",
    "Status",
    "UnaryOp",
]


class Scope(Enum):
    """Where an attribute is looked up; ``UNSCOPED`` (``.foo``) tries each scope in turn."""

    SPAN = "span"
    RESOURCE = "resource"
    EVENT = "event"
    LINK = "link"
    INSTRUMENTATION = "instrumentation"
    UNSCOPED = ""


class Intrinsic(Enum):
    """A built-in field of a span, trace, event, link or instrumentation scope."""

    SPAN_NAME = "span:name"
    SPAN_STATUS = "span:status"
    SPAN_STATUS_MESSAGE = "span:statusMessage"
    SPAN_KIND = "span:kind"
    SPAN_DURATION = "span:duration"
    SPAN_ID = "span:id"
    SPAN_PARENT_ID = "span:parentID"
    SPAN_CHILD_COUNT = "span:childCount"
    TRACE_ID = "trace:id"
    TRACE_DURATION = "trace:duration"
    TRACE_ROOT_NAME = "trace:rootName"
    TRACE_ROOT_SERVICE = "trace:rootService"
    EVENT_NAME = "event:name"
    EVENT_TIME_SINCE_START = "event:timeSinceStart"
    LINK_TRACE_ID = "link:traceID"
    LINK_SPAN_ID = "link:spanID"
    INSTRUMENTATION_NAME = "instrumentation:name"
    INSTRUMENTATION_VERSION = "instrumentation:version"
    # Tempo parses these four only in their unscoped form and documents none of them:
    # `parent` is reported as unsupported, the nested-set numbers are internal.
    PARENT = "parent"
    NESTED_SET_LEFT = "nestedSetLeft"
    NESTED_SET_RIGHT = "nestedSetRight"
    NESTED_SET_PARENT = "nestedSetParent"


class Status(Enum):
    """A span status literal (``ok``, ``error``, ``unset``); itself a field expression."""

    OK = "ok"
    ERROR = "error"
    UNSET = "unset"


class Kind(Enum):
    """A span kind literal (``server``, ``client``, ...); itself a field expression."""

    UNSPECIFIED = "unspecified"
    INTERNAL = "internal"
    SERVER = "server"
    CLIENT = "client"
    PRODUCER = "producer"
    CONSUMER = "consumer"


class BinaryOp(Enum):
    """Operators between field expressions; scalar and metrics nodes use subsets."""

    OR = "||"
    AND = "&&"
    EQ = "="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    REGEX = "=~"
    NOT_REGEX = "!~"
    ADD = "+"
    SUB = "-"
    MUL = "*"
    DIV = "/"
    MOD = "%"
    POW = "^"


class UnaryOp(Enum):
    NOT = "!"
    NEG = "-"


class SpansetOp(Enum):
    """Operators between spansets. Structural ones keep the right-hand spans; the ``&``
    forms keep both sides; the ``!`` forms keep right-hand spans lacking the relation."""

    AND = "&&"
    OR = "||"
    CHILD = ">"
    PARENT = "<"
    DESCENDANT = ">>"
    ANCESTOR = "<<"
    SIBLING = "~"
    NOT_CHILD = "!>"
    NOT_PARENT = "!<"
    NOT_DESCENDANT = "!>>"
    NOT_ANCESTOR = "!<<"
    NOT_SIBLING = "!~"
    UNION_CHILD = "&>"
    UNION_PARENT = "&<"
    UNION_DESCENDANT = "&>>"
    UNION_ANCESTOR = "&<<"
    UNION_SIBLING = "&~"


class AggregateFunction(Enum):
    COUNT = "count"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    SUM = "sum"


class MetricsFunction(Enum):
    RATE = "rate"
    COUNT_OVER_TIME = "count_over_time"
    MIN_OVER_TIME = "min_over_time"
    MAX_OVER_TIME = "max_over_time"
    SUM_OVER_TIME = "sum_over_time"
    AVG_OVER_TIME = "avg_over_time"
    QUANTILE_OVER_TIME = "quantile_over_time"
    HISTOGRAM_OVER_TIME = "histogram_over_time"

"""How the command line shows things to a person: aligned tables, durations, times, values."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import orjson

__all__ = [
    "Column",
    "format_any_value",
    "format_attributes",
    "format_count",
    "format_ms",
    "format_nanos",
    "format_time",
    "print_samples",
    "print_table",
    "write_raw_json",
]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column; numbers read best right-aligned."""

    title: str
    right: bool = False


def print_table(
    columns: Sequence[Column], rows: Iterable[Sequence[str]], *, out: TextIO | None = None
) -> int:
    """Print rows under their column titles, aligned; the last column is never padded.

    Returns the number of rows printed.
    """
    stream = out if out is not None else sys.stdout
    table = [[c.title for c in columns], *([_one_line(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    last = len(columns) - 1
    for row in table:
        cells = []
        for i, (cell, column) in enumerate(zip(row, columns, strict=True)):
            if column.right:
                cells.append(cell.rjust(widths[i]))
            elif i == last:
                cells.append(cell)
            else:
                cells.append(cell.ljust(widths[i]))
        stream.write("  ".join(cells).rstrip() + "\n")
    return len(table) - 1


def print_samples(kind: str, result: Any) -> int:
    """Print a Prometheus-shaped query result (``matrix``, ``vector`` or ``scalar``, as
    the Prometheus and Loki APIs answer them): a scalar's value, else one row per sample
    with its series and time. Returns the number of samples printed."""
    if kind in ("scalar", "string"):
        print(result[1])
        return 1
    rows = []
    for item in result:
        labels = _series_labels(item.get("metric", {}))
        samples = item.get("values") or item.get("histograms")
        for at, value in samples or [item.get("value") or item.get("histogram")]:
            rows.append([labels, format_time(round(float(at) * 1e9)), _sample_value(value)])
    if not rows:
        print("no data points", file=sys.stderr)
        return 0
    return print_table([Column("SERIES"), Column("TIME"), Column("VALUE", right=True)], rows)


def _sample_value(value: Any) -> str:
    """A float sample's value, or a native histogram's count and sum."""
    if isinstance(value, Mapping):
        return f"count={value.get('count')} sum={value.get('sum')}"
    return str(value)


def _series_labels(metric: Any) -> str:
    if not isinstance(metric, Mapping):
        return "{}"
    name = metric.get("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{inner}}}"


def write_raw_json(body: bytes) -> None:
    """Print a JSON body exactly as the server sent it, ending with a newline."""
    sys.stdout.flush()
    sys.stdout.buffer.write(body if body.endswith(b"\n") else body + b"\n")
    sys.stdout.buffer.flush()


def format_ms(value: Any) -> str:
    """Milliseconds → ``850µs``, ``12.5ms``, ``4.21s``, ``2m05s``; ``-`` when unknown."""
    if value is None or isinstance(value, bool):
        return "-"
    try:
        ms = float(value)
    except (TypeError, ValueError):
        return str(value)
    if ms < 0:
        return "-" + format_ms(-ms)
    # Three significant digits in the smallest unit that keeps the number below 1000.
    for amount, unit, limit in ((ms * 1000, "µs", 1000), (ms, "ms", 1000), (ms / 1000, "s", 60)):
        text = _three_digits(amount)
        if float(text) < limit:
            return text + unit
    minutes, seconds = divmod(round(ms / 1000), 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _three_digits(number: float) -> str:
    """``1.23``, ``12.3``, ``123``: three significant digits, trailing zeros dropped."""
    for decimals, limit in ((2, 10), (1, 100)):
        text = f"{number:.{decimals}f}"
        if float(text) < limit:
            return text.rstrip("0").rstrip(".")
    return f"{number:.0f}"


def format_nanos(value: int) -> str:
    """A duration in nanoseconds, shown as ``format_ms`` does."""
    return format_ms(value / 1e6)


def format_time(unix_nano: Any) -> str:
    """Nanoseconds since the epoch (number or decimal string) → local ISO time to the ms."""
    try:
        nanos = int(unix_nano)
    except (TypeError, ValueError):
        return "-"
    if nanos <= 0:
        return "-"
    moment = datetime.fromtimestamp(nanos / 1e9).astimezone()
    return moment.isoformat(timespec="milliseconds")


def format_count(value: Any) -> str:
    """A count, or ``-`` when the server left it out."""
    return "-" if value is None else str(value)


def format_any_value(value: Any) -> str:
    """An OTLP/JSON ``AnyValue`` as text: strings bare, everything else as compact JSON."""
    if not isinstance(value, Mapping):
        return "" if value is None else _compact(value)
    if "stringValue" in value:
        return str(value["stringValue"])
    for key in ("intValue", "doubleValue", "boolValue", "bytesValue"):
        if key in value:
            return _compact(value[key]) if key == "boolValue" else str(value[key])
    if "arrayValue" in value:
        items = (value["arrayValue"] or {}).get("values") or []
        return "[" + ", ".join(format_any_value(item) for item in items) + "]"
    if "kvlistValue" in value:
        items = (value["kvlistValue"] or {}).get("values") or []
        return "{" + format_attributes(items) + "}"
    return "" if not value else _compact(value)


def format_attributes(attributes: Any) -> str:
    """Attributes as ``k=v k2=v2``, from an OTLP/JSON key-value list or a plain object."""
    if isinstance(attributes, Mapping):
        pairs = [(str(k), _plain(v)) for k, v in attributes.items()]
    elif isinstance(attributes, list):
        pairs = [
            (str(kv.get("key", "")), format_any_value(kv.get("value")))
            for kv in attributes
            if isinstance(kv, Mapping)
        ]
    else:
        return ""
    return " ".join(f"{key}={value}" for key, value in pairs)


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else format_any_value(value)


def _compact(value: Any) -> str:
    return orjson.dumps(value).decode()


def _one_line(text: str) -> str:
    # A multi-line log body would break the table's alignment.
    return text.replace("\r\n", "⏎").replace("\n", "⏎")

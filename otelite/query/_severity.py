"""Log severities by OTLP name or number."""

from __future__ import annotations

import re

__all__ = ["parse_severity"]

# SeverityNumber ranges of the OpenTelemetry log data model: each name covers four numbers
# (TRACE=1..4, DEBUG=5..8, ...), written TRACE, TRACE2, TRACE3, TRACE4.
_BASES = {"TRACE": 1, "DEBUG": 5, "INFO": 9, "WARN": 13, "ERROR": 17, "FATAL": 21}
_ALIASES = {"WARNING": "WARN", "ERR": "ERROR", "CRITICAL": "FATAL"}
_NAME = re.compile(r"([A-Z]+)([1-4])?")


def parse_severity(text: str) -> int:
    """``"WARN"``, ``"warn2"``, ``"error"`` or ``"13"`` → a SeverityNumber (1-24).

    Raises ``ValueError`` naming the accepted forms.
    """
    cleaned = text.strip().upper()
    if cleaned.isdigit() and 1 <= int(cleaned) <= 24:
        return int(cleaned)
    match = _NAME.fullmatch(cleaned)
    if match is not None:
        name, step = match.groups()
        base = _BASES.get(_ALIASES.get(name, name))
        if base is not None:
            return base + int(step or 1) - 1
    raise ValueError(
        f"not a severity: {text!r:.40} (use TRACE, DEBUG, INFO, WARN, ERROR, FATAL or 1-24)"
    )

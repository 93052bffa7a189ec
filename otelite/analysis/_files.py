"""Small JSON files that must survive a crash whole: written aside, synced, renamed."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import orjson

__all__ = ["read_json", "write_json"]

log = logging.getLogger("otelite.analysis")


def write_json(path: Path, value: Any) -> None:
    """Replace ``path`` with ``value`` as JSON: after a crash the file holds the old value
    or the new one, never a mix (the directory is made when missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.tmp")
    with aside.open("wb") as file:
        file.write(orjson.dumps(value, option=orjson.OPT_INDENT_2))
        file.flush()
        os.fsync(file.fileno())
    os.replace(aside, path)
    # The rename itself is durable once the directory is synced.
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_json(path: Path) -> Any:
    """The value in ``path``; None when there is no such file, or it is not JSON (logged)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        log.error("%s is not JSON (%s); ignoring it", path, error)
        return None

"""Stores of both kinds for tests: in-memory DuckDB, and ClickHouse on chDB.

A process can hold one chDB directory at a time, so every chDB store of a test run lives
in one directory, each in a database of its own (dropped when the store is released).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from otelite.config import StorageLocation
from otelite.storage import Storage, open_storage
from otelite.storage.duckdb import DuckDBStorage

__all__ = ["BACKENDS", "chdb_location", "chdb_path", "open_backend", "store"]

BACKENDS = ("duckdb", "chdb")
"""The ``kind`` of each store tests run on; parametrize fixtures with it."""

_path: Path | None = None


def chdb_path() -> Path:
    """The test run's one chDB directory, made on first use and removed at exit."""
    global _path
    if _path is None:
        _path = Path(tempfile.mkdtemp(prefix="otelite-chdb-"))
        atexit.register(shutil.rmtree, _path, ignore_errors=True)
    return _path


def chdb_location(database: str | None = None) -> StorageLocation:
    """A fresh database (or ``database``) in the run's chDB directory."""
    name = database or f"t_{uuid.uuid4().hex[:16]}"
    return StorageLocation("chdb", path=chdb_path(), database=name)


def open_backend(
    kind: str, data_dir: Path | None = None, *, location: StorageLocation | None = None
) -> Storage:
    """An empty store of ``kind`` (``location`` reopens a chDB database)."""
    if kind == "duckdb":
        return DuckDBStorage(data_dir)
    return open_storage(location or chdb_location(), data_dir)


@contextmanager
def store(kind: str, data_dir: Path | None = None) -> Iterator[Storage]:
    """An empty store of ``kind``, closed (and its chDB database dropped) afterwards."""
    location = chdb_location() if kind == "chdb" else None
    opened = open_backend(kind, data_dir, location=location)
    try:
        yield opened
    finally:
        opened.close()
        if location is not None:
            drop(location)


def drop(location: StorageLocation) -> None:
    """Drop a chDB test database."""
    import clickhouse_connect

    client = clickhouse_connect.get_client(interface="chdb", path=str(location.path))
    try:
        client.command(f"DROP DATABASE IF EXISTS `{location.database}` SYNC")
    finally:
        client.close()

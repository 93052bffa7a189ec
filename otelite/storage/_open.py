"""Opening the store a ``StorageLocation`` (``--storage``) names.

* ``duckdb`` — the embedded default, a file under the data directory;
* ``clickhouse://USER:PASSWORD@HOST:8123/DATABASE`` (``?secure=true`` for HTTPS) — a
  ClickHouse server, through clickhouse-connect (HTTP, compressed, with timeouts and its
  retries of idempotent requests);
* ``chdb:PATH`` (``?database=NAME``) — the same ClickHouse backend on chDB, ClickHouse's
  engine inside this process, keeping its files under ``PATH``.

The ClickHouse drivers are optional extras, imported only when asked for; a missing one
is named with the command that installs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from otelite.config import StorageLocation
from otelite.errors import Unavailable
from otelite.storage._base import Storage

__all__ = ["open_storage"]

_CHDB_LIMITS = {
    "mark_cache_size": 128 * 2**20,
    "index_mark_cache_size": 64 * 2**20,
    "primary_index_cache_size": 128 * 2**20,
}


def _driver() -> Any:
    try:
        return importlib.import_module("clickhouse_connect")
    except ImportError:
        raise Unavailable(
            "storage: ClickHouse needs clickhouse-connect: pip install 'otelite[clickhouse]'"
        ) from None


def _connector(location: StorageLocation) -> Callable[[str | None], Any]:
    driver = _driver()
    if location.kind == "chdb":
        try:
            importlib.import_module("chdb")
        except ImportError:
            raise Unavailable("storage: chdb: needs chDB: pip install 'otelite[chdb]'") from None
        assert location.path is not None
        # chDB shares this process: its caches get bounds (a server's are its operator's).
        path = f"{location.path.absolute()}?{urlencode(_CHDB_LIMITS)}"

        def connect_chdb(database: str | None) -> Any:
            return driver.get_client(interface="chdb", path=path, database=database or "")

        return connect_chdb

    def connect(database: str | None) -> Any:
        return driver.get_client(
            host=location.host,
            port=location.port,
            username=location.user,
            password=location.password,
            database=database or "",
            secure=location.secure,
            compress=True,
            connect_timeout=10,
            send_receive_timeout=120,
            autogenerate_session_id=False,
        )

    return connect


def open_storage(
    location: StorageLocation,
    data_dir: Path | None,
    *,
    tenant: str | None = None,
    retention_seconds: float | None = None,
    create_schema: bool = True,
    cluster: str | None = None,
) -> Storage:
    """Open the store at ``location``; ``data_dir`` holds DuckDB's file, or the writer's
    identity for ClickHouse (None: in memory). Raises ``Unavailable`` naming the location
    (never its password) when it cannot be opened. A ``tenant``'s data is in ``data_dir``
    (DuckDB) or in a database of its own beside ``location``'s (ClickHouse)."""
    if location.kind == "duckdb":
        from otelite.storage.duckdb import DuckDBStorage

        return DuckDBStorage(data_dir)
    from otelite.storage.clickhouse import ClickHouseStorage

    if tenant is not None:
        location = location.for_tenant(tenant)

    if location.kind == "chdb" and location.path is not None:
        location.path.mkdir(parents=True, exist_ok=True)
    return ClickHouseStorage(
        _connector(location),
        database=location.database,
        where=location.describe(),
        writer_dir=data_dir,
        create_schema=create_schema,
        retention_seconds=None if not retention_seconds else int(retention_seconds),
        cluster=cluster,
        # A server's user may be allowed to write but not to change settings: readonly=2
        # keeps a query from writing while letting it set the settings it runs with. chDB
        # applies settings to its one session, so there it cannot be turned back off.
        read_only_queries=location.kind == "clickhouse",
    )

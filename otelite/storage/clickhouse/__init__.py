"""ClickHouse as otelite's store, over the OpenTelemetry Collector exporter's tables.

Needs the ``clickhouse`` extra (clickhouse-connect), and the ``chdb`` extra for the
in-process engine; ``otelite.storage.open_storage`` says which command installs them.
"""

from __future__ import annotations

from otelite.storage.clickhouse._storage import ClickHouseStorage

__all__ = ["ClickHouseStorage"]

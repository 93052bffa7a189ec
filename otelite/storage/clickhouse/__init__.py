"""ClickHouse as otelite's store, over the OpenTelemetry Collector exporter's tables.

``_tables`` defines them (the exporter's columns and otelite's beside them), ``_ddl``
the statements that make and change them, ``_setup`` what runs when a store opens,
``_layout`` how rows become the exporter's columns and back, ``_errors`` what the
driver's errors mean, and ``_storage`` the ``Storage`` itself.

Needs the ``clickhouse`` extra (clickhouse-connect), and the ``chdb`` extra for the
in-process engine; ``otelite.storage.open_storage`` says which command installs them.
"""

from __future__ import annotations

from otelite.storage.clickhouse._storage import ClickHouseStorage

__all__ = ["ClickHouseStorage"]

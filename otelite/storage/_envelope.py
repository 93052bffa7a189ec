"""Resource and scope columns: flattening envelopes onto rows, and regrouping rows into them.

Every stored row (span, log record, data point) repeats the resource and scope it was sent
under. Flattening keeps one entry per envelope and refers rows to it through a dictionary
column, so a resource with ten attributes costs ten attribute conversions per request,
not per span, and is never copied per row. Regrouping goes the other way: rows with equal
resource and scope columns share one ``Resource*`` / ``Scope*`` message again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from otelite.storage._attributes import AttributeColumns, key_values_from_maps

__all__ = ["EnvelopeColumns", "Regrouper", "service_name"]

_RESOURCE_COLUMNS = (
    "ResourceAttributes",
    "ResourceAttributeTypes",
    "ResourceDroppedAttributesCount",
    "ResourceSchemaUrl",
)
_SCOPE_COLUMNS = (
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "ScopeAttributeTypes",
    "ScopeDroppedAttributesCount",
    "ScopeSchemaUrl",
)


def service_name(resource: Any) -> str:
    """The ``service.name`` of a resource view (see ``_wire``) when it is a string, else ``""``."""
    for encoded in resource.attributes:
        kv = KeyValue.FromString(encoded)
        if kv.key == "service.name":
            return kv.value.string_value
    return ""


class EnvelopeColumns:
    """Collects resources and scopes as they are met, and which rows fall under each.

    Call :meth:`resource` and :meth:`scope` when entering an envelope, :meth:`rows` with the
    number of rows appended under the current pair, and :meth:`arrays` at the end.
    """

    def __init__(self) -> None:
        self._services: list[str] = []
        self._resource_attributes = AttributeColumns()
        self._resource_dropped: list[int] = []
        self._resource_schema_urls: list[str] = []
        self._scope_names: list[str] = []
        self._scope_versions: list[str] = []
        self._scope_attributes = AttributeColumns()
        self._scope_dropped: list[int] = []
        self._scope_schema_urls: list[str] = []
        self._resource_rows: list[int] = []
        self._scope_rows: list[int] = []

    def resource(self, resource: Any, schema_url: str) -> None:
        """Enter a resource envelope (a view, see ``_wire``)."""
        self._services.append(service_name(resource))
        self._resource_attributes.append(resource.attributes)
        self._resource_dropped.append(resource.dropped_attributes_count)
        self._resource_schema_urls.append(schema_url)

    def scope(self, scope: Any, schema_url: str) -> None:
        """Enter a scope envelope (a view) under the current resource."""
        self._scope_names.append(scope.name)
        self._scope_versions.append(scope.version)
        self._scope_attributes.append(scope.attributes)
        self._scope_dropped.append(scope.dropped_attributes_count)
        self._scope_schema_urls.append(schema_url)

    def rows(self, count: int) -> None:
        """``count`` rows were appended under the current resource and scope."""
        self._resource_rows.extend([len(self._services) - 1] * count)
        self._scope_rows.extend([len(self._scope_names) - 1] * count)

    def items(
        self, requests: Iterable[Any], resource_field: str, scope_field: str, item_field: str
    ) -> list[Any]:
        """Enter every envelope of ``requests`` and return their items, one row each.

        The fields name the repeated fields of the request type, e.g. ``resource_spans``,
        ``scope_spans`` and ``spans``.
        """
        items: list[Any] = []
        for request in requests:
            for resource_envelope in getattr(request, resource_field):
                self.resource(resource_envelope.resource, resource_envelope.schema_url)
                for scope_envelope in getattr(resource_envelope, scope_field):
                    self.scope(scope_envelope.scope, scope_envelope.schema_url)
                    scope_items = getattr(scope_envelope, item_field)
                    self.rows(len(scope_items))
                    items.extend(scope_items)
        return items

    def arrays(self) -> dict[str, pa.Array]:
        """Column name → array with one entry per row, dictionary-encoded (one dictionary
        entry per envelope met; see ``_schema.flattened``)."""
        resource_attributes, resource_types = self._resource_attributes.arrays()
        scope_attributes, scope_types = self._scope_attributes.arrays()
        per_resource: dict[str, pa.Array] = {
            "ServiceName": pa.array(self._services, pa.string()),
            "ResourceAttributes": resource_attributes,
            "ResourceAttributeTypes": resource_types,
            "ResourceDroppedAttributesCount": pa.array(self._resource_dropped, pa.uint32()),
            "ResourceSchemaUrl": pa.array(self._resource_schema_urls, pa.string()),
        }
        per_scope: dict[str, pa.Array] = {
            "ScopeName": pa.array(self._scope_names, pa.string()),
            "ScopeVersion": pa.array(self._scope_versions, pa.string()),
            "ScopeAttributes": scope_attributes,
            "ScopeAttributeTypes": scope_types,
            "ScopeDroppedAttributesCount": pa.array(self._scope_dropped, pa.uint32()),
            "ScopeSchemaUrl": pa.array(self._scope_schema_urls, pa.string()),
        }
        resource_rows = pa.array(self._resource_rows, pa.int32())
        scope_rows = pa.array(self._scope_rows, pa.int32())
        columns = {
            name: pa.DictionaryArray.from_arrays(resource_rows, array)
            for name, array in per_resource.items()
        }
        columns.update(
            {
                name: pa.DictionaryArray.from_arrays(scope_rows, array)
                for name, array in per_scope.items()
            }
        )
        return columns


def _key(row: Mapping[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    # Maps come back from storage as lists of (key, value) pairs; make them hashable.
    return tuple(tuple(v) if isinstance(v, list) else v for v in (row[n] for n in names))


class Regrouper:
    """Puts rows back under ``Resource*`` and ``Scope*`` messages of one export request.

    ``resource_field`` and ``scope_field`` name the repeated fields, e.g. ``resource_spans``
    and ``scope_spans``. :meth:`scope_for` returns the scope message a row belongs in,
    creating the resource and scope on first sight.
    """

    def __init__(self, request: Any, resource_field: str, scope_field: str) -> None:
        self._resources = getattr(request, resource_field)
        self._scope_field = scope_field
        self._by_resource: dict[tuple[Any, ...], Any] = {}
        self._by_scope: dict[tuple[tuple[Any, ...], tuple[Any, ...]], Any] = {}

    def scope_for(self, row: Mapping[str, Any]) -> Any:
        resource_key = _key(row, _RESOURCE_COLUMNS)
        scope_key = (resource_key, _key(row, _SCOPE_COLUMNS))
        scope_message = self._by_scope.get(scope_key)
        if scope_message is not None:
            return scope_message
        resource_message = self._by_resource.get(resource_key)
        if resource_message is None:
            resource_message = self._resources.add()
            resource_message.schema_url = row["ResourceSchemaUrl"] or ""
            resource = resource_message.resource
            key_values_from_maps(
                row["ResourceAttributes"], row["ResourceAttributeTypes"], resource.attributes
            )
            resource.dropped_attributes_count = row["ResourceDroppedAttributesCount"] or 0
            self._by_resource[resource_key] = resource_message
        scope_message = getattr(resource_message, self._scope_field).add()
        scope_message.schema_url = row["ScopeSchemaUrl"] or ""
        scope = scope_message.scope
        scope.name = row["ScopeName"] or ""
        scope.version = row["ScopeVersion"] or ""
        key_values_from_maps(row["ScopeAttributes"], row["ScopeAttributeTypes"], scope.attributes)
        scope.dropped_attributes_count = row["ScopeDroppedAttributesCount"] or 0
        self._by_scope[scope_key] = scope_message
        return scope_message

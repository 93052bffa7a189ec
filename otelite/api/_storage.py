"""The storage behind the API, and plans run on it off the event loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import SpanKind, Tracer
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection, Request

from otelite.access import Right, allowed_tenants
from otelite.config import Tenancy
from otelite.query import Count, Plan, Select, Table, compile_plan
from otelite.storage import Storage
from otelite.tenancy import SINGLE_TENANT, TENANT_HEADER, tenant_of

__all__ = [
    "StoragePerTenant",
    "rows",
    "rows_of_each",
    "storage_of",
    "tenant_id_of",
    "tracer_of",
]

# Compiled statements are a few KiB at most; the cap keeps one span small whatever comes.
_MAX_QUERY_TEXT = 4096


@dataclass(frozen=True, slots=True)
class StoragePerTenant:
    """Multi-tenant: each request reads the storage of the tenant its ``X-Scope-OrgID`` names.

    ``lookup`` maps a checked tenant id to that tenant's storage (an empty one for a
    tenant that has never written); it must not block.
    """

    tenancy: Tenancy
    lookup: Callable[[str], Storage]


def storage_of(request: HTTPConnection) -> Storage:
    """The storage this request may read: the one ``create_app`` was given, or its tenant's.

    Handlers get storage only through here, so none can read a tenant the request does
    not name, or one its token may not query. Raises ``InvalidRequest`` for a missing or
    invalid tenant header and ``Forbidden`` for a tenant the token may not query.
    """
    source: Storage | StoragePerTenant = request.app.state.storage
    if isinstance(source, StoragePerTenant):
        sent = request.headers.getlist(TENANT_HEADER)
        allowed = allowed_tenants(request.scope, Right.QUERY)
        return source.lookup(tenant_of(sent, source.tenancy, allowed=allowed))
    return source


def tenant_id_of(request: HTTPConnection) -> str:
    """The tenant whose storage ``storage_of`` gives this request (``SINGLE_TENANT``
    without multi-tenancy), checked the same way, for what a tenant keeps beside its
    telemetry (its SLOs)."""
    source: Storage | StoragePerTenant = request.app.state.storage
    if isinstance(source, StoragePerTenant):
        sent = request.headers.getlist(TENANT_HEADER)
        return tenant_of(sent, source.tenancy, allowed=allowed_tenants(request.scope, Right.QUERY))
    return SINGLE_TENANT


def _run(storage: Storage, plans: Sequence[Plan], tracer: Tracer) -> list[list[dict[str, Any]]]:
    results = []
    for plan in plans:
        statement = compile_plan(plan, storage.dialect)
        # Bound parameters keep every value out of the statement's text.
        with tracer.start_as_current_span(
            f"SELECT {_target(plan)}",
            kind=SpanKind.CLIENT,
            attributes={
                "db.system.name": storage.dialect.name,
                "db.query.text": statement.sql[:_MAX_QUERY_TEXT],
            },
        ) as span:
            table = storage.query(statement.sql, statement.params, types=statement.types)
            span.set_attribute("db.response.returned_rows", table.num_rows)
        results.append(table.to_pylist())
    return results


def _target(plan: Plan) -> str:
    if isinstance(plan, Count):
        return ",".join(table.value for table in plan.tables)
    return plan.table.value if isinstance(plan, Select) else Table.SPANS.value


def tracer_of(request: Request) -> Tracer:
    """The tracer of otelite's own telemetry (a no-op one unless it is on)."""
    tracer: Tracer = request.app.state.tracer
    return tracer


async def rows(request: Request, plan: Plan) -> list[dict[str, Any]]:
    """The rows of one plan, as dicts, computed in a worker thread."""
    [result] = await run_in_threadpool(_run, storage_of(request), [plan], tracer_of(request))
    return result


async def rows_of_each(request: Request, plans: Sequence[Plan]) -> list[list[dict[str, Any]]]:
    """The rows of several plans, computed one after another in one worker thread."""
    return await run_in_threadpool(_run, storage_of(request), plans, tracer_of(request))

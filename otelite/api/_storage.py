"""The storage behind the API, and plans run on it off the event loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from otelite.access import Right, allowed_tenants
from otelite.config import Tenancy
from otelite.query import Plan, compile_plan
from otelite.storage import Storage
from otelite.tenancy import TENANT_HEADER, tenant_of

__all__ = ["StoragePerTenant", "rows", "rows_of_each", "storage_of"]


@dataclass(frozen=True, slots=True)
class StoragePerTenant:
    """Multi-tenant: each request reads the storage of the tenant its ``X-Scope-OrgID`` names.

    ``lookup`` maps a checked tenant id to that tenant's storage (an empty one for a
    tenant that has never written); it must not block.
    """

    tenancy: Tenancy
    lookup: Callable[[str], Storage]


def storage_of(request: Request) -> Storage:
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


def _run(storage: Storage, plans: Sequence[Plan]) -> list[list[dict[str, Any]]]:
    results = []
    for plan in plans:
        statement = compile_plan(plan, storage.dialect)
        table = storage.query(statement.sql, statement.params, types=statement.types)
        results.append(table.to_pylist())
    return results


async def rows(request: Request, plan: Plan) -> list[dict[str, Any]]:
    """The rows of one plan, as dicts, computed in a worker thread."""
    [result] = await run_in_threadpool(_run, storage_of(request), [plan])
    return result


async def rows_of_each(request: Request, plans: Sequence[Plan]) -> list[list[dict[str, Any]]]:
    """The rows of several plans, computed one after another in one worker thread."""
    return await run_in_threadpool(_run, storage_of(request), plans)

"""Tenant ids: which tenant a request belongs to, from its ``X-Scope-OrgID`` header.

A tenant id is 1 to 150 characters from ``A-Z a-z 0-9 ! - _ . * ' ( )``, and neither ``.``
nor ``..`` (the rule Tempo and Loki use). The id also names the tenant's directory, which
this charset makes safe: it has no ``/``, ``\\``, ``%`` or NUL, so no ``..`` trick and no
encoded form of one (``%2e%2e``, ``%252e%252e``) can be a valid id. Header values are
checked as they arrive, never URL-decoded first. Receivers and the query API both call
``tenant_of``, so ingest and queries can never disagree on whose data a request is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from otelite.config import Tenancy
from otelite.errors import Forbidden, InvalidRequest

__all__ = [
    "MAX_TENANT_ID_BYTES",
    "SINGLE_TENANT",
    "TENANT_HEADER",
    "check_tenant_id",
    "tenant_of",
]

TENANT_HEADER = "x-scope-orgid"
"""The header (HTTP) and metadata key (gRPC) naming the tenant; lower case, as gRPC wants."""
SINGLE_TENANT = "single-tenant"
"""The tenant of every request when multi-tenancy is off."""
MAX_TENANT_ID_BYTES = 150

_VALID = re.compile(r"[A-Za-z0-9!\-_.*'()]{1,150}")
_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!-_.*'()")
_RULE = "a tenant id is 1 to 150 characters from A-Z a-z 0-9 ! - _ . * ' ( ) and not '.' or '..'"
_SHOWN_CHARS = 60


def check_tenant_id(value: str, *, what: str = "X-Scope-OrgID") -> str:
    """``value`` if it is a valid tenant id, else ``InvalidRequest`` saying why and the rule."""
    if _VALID.fullmatch(value) and value not in (".", ".."):
        return value
    raise InvalidRequest(f"{what} {_shown(value)} {_problem(value)}; {_RULE}")


def tenant_of(values: Sequence[str], tenancy: Tenancy, *, allowed: frozenset[str] | None) -> str:
    """The tenant of a request that carried the header ``values`` (all of them, in order).

    Without multi-tenancy that is ``SINGLE_TENANT`` whatever was sent. With it, a request
    with the header twice is refused, so that no proxy in front can read one tenant while
    otelite reads another. ``allowed`` are the tenants the request's token may use (None:
    any): another is refused (``Forbidden``). A request without the header goes to the
    token's tenant when it has exactly one, else to the default tenant, else is refused.
    """
    if not tenancy.enabled:
        return SINGLE_TENANT
    if len(values) > 1:
        raise InvalidRequest(
            f"X-Scope-OrgID sent {len(values)} times; send one tenant id per request"
        )
    if values:
        tenant = check_tenant_id(values[0])
    elif allowed is not None and len(allowed) == 1:
        return next(iter(allowed))
    elif tenancy.default_tenant is not None:
        tenant = tenancy.default_tenant
    else:
        raise InvalidRequest(
            "X-Scope-OrgID header required: this otelite keeps tenants apart "
            "(multi-tenant mode) and needs to know whose data this is"
        )
    if allowed is not None and tenant not in allowed:
        raise Forbidden(
            f"this bearer token may not use tenant {tenant!r}; "
            f"it may use {', '.join(sorted(map(repr, allowed))) or 'none'}"
        )
    return tenant


def _problem(value: str) -> str:
    if not value:
        return "is empty"
    size = len(value.encode("utf-8", "replace"))
    if size > MAX_TENANT_ID_BYTES:
        return f"is {size} bytes long, over the limit of {MAX_TENANT_ID_BYTES}"
    bad = next((char for char in value if char not in _ALLOWED), None)
    if bad is not None:
        return f"contains {bad!r}, which a tenant id may not"
    return "is reserved"  # '.' or '..': everything else failing the pattern is caught above


def _shown(value: str) -> str:
    """The value quoted (control characters escaped) and cut short for a message."""
    if len(value) <= _SHOWN_CHARS:
        return repr(value)
    return f"{value[:_SHOWN_CHARS]!r}... ({len(value)} characters)"

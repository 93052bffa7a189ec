"""What a token may do: its rights, and for each right the tenants it may exercise it on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from starlette.types import Scope

__all__ = ["Grant", "Right", "allowed_tenants", "granted", "record_grant"]

_SCOPE_KEY = "otelite.grant"


class Right(StrEnum):
    """One kind of access a token can be given."""

    INGEST = "ingest"
    """Send telemetry to the OTLP receivers."""
    QUERY = "query"
    """Read telemetry through the query API and the web UI."""
    OPERATOR = "operator"
    """Read otelite's own ``/metrics``, which count every tenant; never bound to tenants."""


@dataclass(frozen=True, slots=True)
class Grant:
    """The rights one token holds, each with the tenants it holds it for (None: any tenant).

    ``name`` says where the token was configured ("line 3 of /etc/otelite/tokens"); it is
    safe to log and keys the token's ingest rate when tenants are not kept apart.
    """

    scopes: Mapping[Right, frozenset[str] | None]
    name: str

    def holds(self, right: Right) -> bool:
        return right in self.scopes

    def tenants(self, right: Right) -> frozenset[str] | None:
        """The tenants ``right`` is held for: None for any tenant, empty when not held."""
        return self.scopes.get(right, frozenset())

    @property
    def bound(self) -> bool:
        """Whether some right is limited to named tenants."""
        return any(tenants is not None for tenants in self.scopes.values())

    def merged(self, other: Grant) -> Grant:
        """This grant and ``other`` together: the same token configured twice holds both."""
        scopes = dict(self.scopes)
        for right, tenants in other.scopes.items():
            mine = scopes.get(right, frozenset())
            scopes[right] = None if mine is None or tenants is None else mine | tenants
        return Grant(scopes, self.name)

    @classmethod
    def of(cls, rights: Iterable[Right], tenants: frozenset[str] | None, name: str) -> Grant:
        return cls({right: tenants for right in rights}, name)


def granted(scope: Scope) -> Grant | None:
    """The grant ``BearerAuth`` recorded for the request in ``scope``; None without tokens."""
    grant = scope.get(_SCOPE_KEY)
    assert grant is None or isinstance(grant, Grant)
    return grant


def allowed_tenants(scope: Scope, right: Right) -> frozenset[str] | None:
    """The tenants the request in ``scope`` may use ``right`` on (None: any tenant).

    A request to an app without authentication carries no grant and may use any tenant.
    """
    grant = granted(scope)
    return None if grant is None else grant.tenants(right)


def record_grant(scope: Scope, grant: Grant) -> None:
    scope[_SCOPE_KEY] = grant

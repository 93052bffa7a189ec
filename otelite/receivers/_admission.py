"""What an HTTP ingest request passes before its body is decoded: whose data it is, its
body within the size limit, and its client's rate limit."""

from __future__ import annotations

from starlette.requests import Request

from otelite.access import Right, allowed_tenants, granted
from otelite.config import Limits, Tenancy
from otelite.pipeline import PipelineStats
from otelite.receivers._body import read_body
from otelite.receivers._rate import RateLimiter, client_key
from otelite.tenancy import TENANT_HEADER, tenant_of

__all__ = ["Admission"]


class Admission:
    """Admits the requests of one HTTP endpoint or port under ``limits`` and ``tenancy``;
    rate-limit refusals are counted in ``stats``."""

    def __init__(self, limits: Limits, tenancy: Tenancy, stats: PipelineStats) -> None:
        self._limit = limits.max_request_bytes
        self._tenancy = tenancy
        self._rate = RateLimiter.from_limits(limits, stats)

    async def admit(self, request: Request, *, coding: str) -> tuple[str, bytes]:
        """The request's tenant and its body, decoded per ``coding`` (``gzip``,
        ``identity``); raises the ``OteliteError`` that refuses it (bad tenant, too
        large, over the client's rate)."""
        tenant = tenant_of(
            request.headers.getlist(TENANT_HEADER),
            self._tenancy,
            allowed=allowed_tenants(request.scope, Right.INGEST),
        )
        body = await read_body(
            request.stream(),
            coding=coding,
            content_length=request.headers.get("content-length"),
            limit=self._limit,
        )
        if self._rate is not None:
            key = client_key(
                tenant=tenant if self._tenancy.enabled else None,
                token=granted(request.scope),
                peer=request.client.host if request.client else None,
            )
            self._rate.admit(key, len(body))
        return tenant, body

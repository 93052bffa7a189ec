"""Per-client ingest rate limits: a token bucket of bytes for each client key.

A client may send ``rate`` bytes per second (after decompression) on average and run up to
``burst`` bytes ahead. A request is admitted whenever the client's bucket is not in debt
and then pays for its whole size, so a request larger than the burst is still admitted
(once the bucket is full) instead of never; the debt it leaves makes the client wait in
proportion. A refused client gets ``Overloaded`` with the time until its bucket is out of
debt, which the receivers turn into 429 ``Retry-After`` and gRPC RESOURCE_EXHAUSTED with
``RetryInfo``.

The client key is the checked tenant when tenants are kept apart, else the bearer token
(by where it was configured) when tokens are on, else the peer address: never a value the
client can change at will, so no client escapes its limit by sending a new header.
Buckets that have refilled completely behave like new ones, so they are forgotten when
more than 10,000 accumulate (and past that, the oldest): memory stays bounded however
many clients come and go.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from otelite.access import Grant
from otelite.config import Limits
from otelite.errors import Overloaded
from otelite.pipeline import PipelineStats

__all__ = ["RateLimiter", "client_key"]

_MAX_BUCKETS = 10_000


class RateLimiter:
    """Token buckets of bytes, one per client key. Not thread-safe: one event loop uses it.

    Refusals are counted in ``stats.rejected_rate_limited``.
    """

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        stats: PipelineStats,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError(f"ingest rate and burst must be positive, got {rate} and {burst}")
        self.rate = rate
        self.burst = burst
        self._stats = stats
        self._clock = clock
        # key -> (tokens, time of that count); tokens below zero are debt.
        self._buckets: dict[str, tuple[float, float]] = {}

    @classmethod
    def from_limits(cls, limits: Limits, stats: PipelineStats) -> RateLimiter | None:
        """The limiter ``limits`` ask for, or None when ingest rates are not limited."""
        rate = limits.ingest_rate_bytes
        if rate is None:
            return None
        burst = limits.ingest_burst_bytes
        return cls(rate, 2 * rate if burst is None else burst, stats=stats)

    def admit(self, key: str, size: int) -> None:
        """Charge ``size`` bytes to ``key``; raise ``Overloaded`` if it must wait first."""
        now = self._clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens < 0:
            self._buckets[key] = (tokens, now)
            self._stats.rejected_rate_limited += 1
            wait = -tokens / self.rate
            raise Overloaded(
                f"client {key[:64]!r} is over its ingest rate (limit ingest_rate_bytes="
                f"{self.rate:g} per second, ingest_burst_bytes={self.burst:g}); "
                f"retry in {wait:.1f}s",
                retry_after=wait,
            )
        self._buckets[key] = (tokens - size, now)
        if len(self._buckets) > _MAX_BUCKETS:
            self._forget_full(now)

    def _forget_full(self, now: float) -> None:
        full = [
            key
            for key, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]
        # Still too many clients at once: the longest-known lose their debt, not memory.
        while len(self._buckets) > _MAX_BUCKETS:
            del self._buckets[next(iter(self._buckets))]


def client_key(*, tenant: str | None, token: Grant | None, peer: str | None) -> str:
    """Whom a request is charged to: its checked tenant, else its token, else its peer.

    ``tenant`` is given only when tenants are kept apart. ``peer`` is an address with or
    without a port (``127.0.0.1``, ``ipv4:10.0.0.1:5123``, ``ipv6:[::1]:5123``, as HTTP
    and gRPC servers report it); the port is not part of the key, since a client opens
    many connections.
    """
    if tenant is not None:
        return f"tenant {tenant}"
    if token is not None:
        return f"token at {token.name}"
    if not peer:
        return "unknown peer"
    if peer.startswith(("ipv4:", "ipv6:")):
        peer = peer.split(":", 1)[1].rsplit(":", 1)[0]
    return peer.strip("[]")

"""The demo shop's ``bad-deploy`` fault, found as a deploy whose after-RED is worse."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.analysis import Deployments, find_deployments
from otelite.demo import Shop
from otelite.query import TimeRange
from otelite.storage import WriteBatch
from otelite.types import Signal
from tests.backends import BACKENDS, store

SECOND = 1_000_000_000
START = 1_700_000_000 * SECOND
FAULT_AFTER = 120
RUN = 240
STEP = SECOND // 10
"""Simulated time between two user actions: ten a second."""


def _simulated_shop() -> list[WriteBatch]:
    """Four simulated minutes of the shop's traces, the fault two minutes in."""
    now = START

    def clock() -> int:
        nonlocal now
        now += STEP
        return now

    shop = Shop(
        seed=7,
        scenario="bad-deploy",
        fault_after=FAULT_AFTER,
        clock=clock,
        signals=(Signal.TRACES,),
    )
    while now < START + RUN * SECOND:
        shop.simulate()
    return [WriteBatch(traces=[batch.request()]) for batch in shop.flush()]  # type: ignore[list-item]


@pytest.fixture(scope="module", params=BACKENDS)
def found(request: pytest.FixtureRequest) -> Iterator[Deployments]:
    with store(request.param) as opened:
        for batch in _simulated_shop():
            opened.write(batch)
        yield find_deployments(opened, TimeRange(START, START + RUN * SECOND))


def test_the_catalog_deploy_is_found_at_the_fault(found: Deployments) -> None:
    [deploy] = found.deploys
    assert (deploy.service, deploy.version, deploy.previous) == ("catalog", "1.9.0", ("1.8.3",))
    # The first span of 1.9.0 belongs to the first user action after the fault: it started
    # at most one action's duration earlier.
    assert abs(deploy.time_ns - (START + FAULT_AFTER * SECOND)) < 5 * SECOND
    assert not deploy.rollback and not found.truncated


def test_after_the_deploy_catalog_is_slower_and_fails_more(found: Deployments) -> None:
    [deploy] = found.deploys
    assert deploy.before is not None and deploy.after is not None
    before, after = deploy.before.service, deploy.after.service
    assert before.request_count > 100 and after.request_count > 100
    assert after.error_rate > before.error_rate + 0.04
    assert after.p50_ns > before.p50_ns * 1.5  # type: ignore[operator]
    assert after.p95_ns > before.p95_ns  # type: ignore[operator]
    assert [v for v, _ in deploy.before.versions] == ["1.8.3"]
    assert [v for v, _ in deploy.after.versions] == ["1.9.0"]

"""The demo shop's payment provider starts failing: the payment SLO's fast burn pages.

The shop runs on a simulated clock, one user action a second: half an hour as usual,
then an hour with ``failing-payment-provider``. The payment SLOs of
docs/slos/demo-shop.yaml (99% of charges succeed) are evaluated as the schedule would,
before the fault and every quarter of an hour after, from the spans themselves and from
the span metrics derived from them (PromQL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from otelite.analysis import SloCatalog, SloEvaluator, parse_documents
from otelite.demo import Shop
from otelite.storage import Storage, WriteBatch
from otelite.tenancy import SINGLE_TENANT
from otelite.types import Signal
from tests.backends import BACKENDS, store

from .slo_data import MINUTE, SECOND

START = 1_700_000_000 * SECOND
FAULT = START + 30 * MINUTE
END = FAULT + 60 * MINUTE

# The documented SLOs for the demo shop: what README and docs/ promise is what is tested.
SLOS = (Path(__file__).parents[2] / "docs" / "slos" / "demo-shop.yaml").read_text()


@pytest.fixture(scope="module", params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    now = [START]
    shop = Shop(
        seed=3,
        scenario="failing-payment-provider",
        fault_after=(FAULT - START) / SECOND,
        services=["payment"],
        signals=[Signal.TRACES],
        clock=lambda: now[0],
    )
    for now[0] in range(START, END, SECOND):
        shop.simulate()
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[batch.request() for batch in shop.flush()]))
        yield opened


def firing(evaluator: SloEvaluator, at_ns: int) -> dict[str, set[str]]:
    asyncio.run(evaluator.evaluate(at_ns))
    alerts = evaluator.catalog.book(SINGLE_TENANT).alerts.alerts(at_ns)
    found: dict[str, set[str]] = {}
    for alert in alerts:
        if alert.state == "firing":
            found.setdefault(alert.slo, set()).add(alert.rule)
    return found


def test_the_fast_burn_alert_fires_once_the_provider_fails(storage: Storage) -> None:
    catalog = SloCatalog(None)
    catalog.book(SINGLE_TENANT).put(parse_documents(SLOS))
    evaluator = SloEvaluator(catalog, lambda tenant: storage)
    # As usual, about 5% of charges fail (the provider is flaky): a burn rate near 5,
    # which makes a ticket (over 1 for 3 days and 6 hours) but does not page.
    before = firing(evaluator, FAULT - 5 * SECOND)
    assert set(before) == {"payment-charges", "payment-charges-promql"}
    assert all(rules == {"SLOBudgetBurn"} for rules in before.values()), before
    # About 80% fail once the provider does: a burn rate near 80 over the 5 minutes,
    # and over the hour 30 by the first quarter of an hour. The fast burn pages, and
    # keeps paging while the provider fails.
    for minutes in (15, 30, 45, 60):
        found = firing(evaluator, FAULT + minutes * MINUTE)
        for slo in ("payment-charges", "payment-charges-promql"):
            assert "SLOFastBurn" in found.get(slo, set()), (minutes, found)

"""The critical path finds the demo shop's slow database, on both backends.

The shop runs on a simulated clock (20 ms per user action) and PostgreSQL turns 8x
slower 15 s in. Comparing the critical paths of the slow traces after the fault with
those before it, the database's share must rise clearly; for the shipping consumer's
traces, a database call must take the first place.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from otelite.api import create_app
from otelite.demo import Shop
from otelite.storage import WriteBatch
from otelite.types import Signal
from tests.api.served import Served
from tests.backends import BACKENDS, store
from tests.demo.support import START, stepping_clock

FAULT = START + 15 * 10**9
END = START + 61 * 10**9
_SQL = ("SELECT", "INSERT", "UPDATE", "DELETE")


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    shop = Shop(
        seed=3,
        scenario="slow-database",
        fault_after=15.0,
        clock=stepping_clock(step_ms=20),
        signals=(Signal.TRACES,),
        batch_size=1000,
    )
    # 30,000 spans: some 60 s of traffic, the first 15 s of it before the fault.
    requests = [batch.request() for batch in itertools.islice(shop.batches(Signal.TRACES), 30)]
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=requests))
        served = Served(create_app(opened))
        try:
            with httpx.Client(base_url=served.url, timeout=60) as http:
                yield http
        finally:
            served.close()


def _after_versus_before(client: httpx.Client, query: str) -> dict[str, Any]:
    response = client.get(
        "/api/critical-path",
        params={
            "q": query,
            "start": str(FAULT),
            "end": str(END),
            "baselineStart": str(START),
            "baselineEnd": str(FAULT),
            "limit": "300",
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["selection"]["traces"] >= 100 and body["baseline"]["traces"] >= 100
    return body


def _is_database(operation: dict[str, Any]) -> bool:
    return str(operation["name"]).split(" ")[0] in _SQL


def test_the_database_share_of_slow_traces_rises(client: httpx.Client) -> None:
    body = _after_versus_before(client, "{ trace:duration > 50ms }")
    database = [o for o in body["operations"] if _is_database(o)]
    after = sum(o["share"] for o in database)
    before = sum(o["baselineShare"] for o in database)
    assert after > before + 0.15, (before, after)


def test_a_database_call_leads_the_shipping_consumer_path(client: httpx.Client) -> None:
    query = '{ resource.service.name = "shipping" && kind = consumer }'
    body = _after_versus_before(client, query)
    first = body["operations"][0]
    assert _is_database(first) and first["service"] == "shipping"
    assert first["share"] > 0.9
    assert first["difference"] > 0.1

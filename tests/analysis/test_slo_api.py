"""The SLO API on a real server over both backends: definitions, status, rules and alerts.

The store holds requests to ``payment`` at known times before ``AT``; each expected count
is found by counting those times in the window, and each burn rate worked out from it.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import yaml

from otelite.analysis import SloCatalog, SloEvaluator
from otelite.api import create_app
from otelite.storage import Storage, WriteBatch
from tests.api.served import Served
from tests.backends import BACKENDS, store

from .slo_data import MINUTE, batch, spread
from .test_openslo import AVAILABILITY

AT = 1_780_000_000 * 10**9  # a fixed time, so that windows do not move under the test
RECENT = spread(AT - 4 * MINUTE, AT - MINUTE, 30)  # the last 5 minutes: 30 requests ...
FAILED = spread(AT - 4 * MINUTE, AT - MINUTE, 10, failed=True)  # ... and 10 failures
EARLIER = spread(AT - 50 * MINUTE, AT - 10 * MINUTE, 20)  # within the hour, all good
SLOW = spread(AT - 3 * MINUTE, AT - 2 * MINUTE, 5, duration_ms=500)  # good, but slow

SLO = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: payment-availability}
spec:
  service: payment
  budgetingMethod: Occurrences
  timeWindow: [{duration: 7d, isRolling: true}]
  objectives: [{target: 0.99}]
  indicator:
    spec:
      ratioMetric:
        good: {metricSource: {type: otelite, spec: {service: payment}}}
        total: {metricSource: {type: otelite, spec: {service: payment}}}
"""


def in_window(seconds: int, *groups: list[Any], at: int = AT) -> int:
    return sum(at - seconds * 10**9 <= s.start_time_unix_nano < at for g in groups for s in g)


@pytest.fixture(scope="module", params=BACKENDS)
def storage(request: pytest.FixtureRequest) -> Iterator[Storage]:
    with store(request.param) as opened:
        spans = [*RECENT, *FAILED, *EARLIER, *SLOW]
        opened.write(WriteBatch(traces=[batch("payment", spans)]))
        yield opened


@pytest.fixture(scope="module")
def evaluator(storage: Storage) -> SloEvaluator:
    return SloEvaluator(SloCatalog(None), lambda tenant: storage)


@pytest.fixture(scope="module")
def client(storage: Storage, evaluator: SloEvaluator) -> Iterator[httpx.Client]:
    served = Served(create_app(storage, slo_evaluator=evaluator))
    try:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            yield http
    finally:
        served.close()


def put(client: httpx.Client, name: str, text: str) -> httpx.Response:
    return client.put(
        f"/api/slos/{name}", content=text, headers={"content-type": "application/yaml"}
    )


def test_slos_are_put_got_listed_and_deleted(client: httpx.Client) -> None:
    assert put(client, "payment-availability", AVAILABILITY).status_code == 201
    assert put(client, "payment-availability", AVAILABILITY).status_code == 200
    got = client.get("/api/slos/payment-availability")
    assert got.status_code == 200 and got.json() == yaml.safe_load(AVAILABILITY)
    [listed] = client.get("/api/slos").json()["slos"]
    assert listed["name"] == "payment-availability" and listed["window"] == "28d"
    assert listed["objectives"] == [
        {"name": "three nines", "target": 0.999},
        {"name": "1", "target": 0.99},
    ]
    # JSON is taken as well as YAML.
    as_json = orjson.dumps(yaml.safe_load(AVAILABILITY))
    assert client.put("/api/slos/payment-availability", content=as_json).status_code == 200
    assert client.delete("/api/slos/payment-availability").json() == {
        "deleted": "payment-availability"
    }
    assert client.get("/api/slos").json() == {"slos": []}
    for answer in (client.get("/api/slos/payment-availability"), client.delete("/api/slos/x")):
        assert answer.status_code == 404
        assert "no SLO named" in answer.json()["error"]


def test_bad_definitions_are_refused_and_nothing_is_applied(client: httpx.Client) -> None:
    bad = yaml.safe_load(AVAILABILITY)
    bad["spec"]["objectives"][0]["target"] = 1.5
    answer = client.put("/api/slos/payment-availability", content=orjson.dumps(bad))
    assert answer.status_code == 400
    assert answer.json()["error"] == "spec.objectives[0].target: must be in (0, 1), got 1.5"
    renamed = put(client, "other", AVAILABILITY)
    assert renamed.status_code == 400
    assert renamed.json()["error"].startswith(
        "metadata.name: 'payment-availability' is not 'other'"
    )
    # Two documents, the second bad: neither is applied.
    second = copy.deepcopy(bad)
    second["metadata"]["name"] = "second"
    both = AVAILABILITY + "---\n" + yaml.safe_dump(second)
    answer = client.post("/api/slos", content=both)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("document 2: spec.objectives[0].target")
    assert client.get("/api/slos").json() == {"slos": []}


def test_several_documents_apply_together(client: httpx.Client) -> None:
    other = yaml.safe_load(AVAILABILITY)
    other["metadata"]["name"] = "payment-latency"
    answer = client.post("/api/slos", content=AVAILABILITY + "---\n" + yaml.safe_dump(other))
    assert answer.status_code == 201
    assert answer.json() == {
        "applied": [
            {"name": "payment-availability", "created": True},
            {"name": "payment-latency", "created": True},
        ]
    }
    names = [slo["name"] for slo in client.get("/api/slos").json()["slos"]]
    assert names == ["payment-availability", "payment-latency"]
    for name in names:
        assert client.delete(f"/api/slos/{name}").status_code == 200


def test_status_is_worked_out_from_the_requests(client: httpx.Client) -> None:
    assert put(client, "payment-availability", SLO).status_code == 201
    try:
        answer = client.get("/api/slos/payment-availability/status", params={"time": str(AT)})
        assert answer.status_code == 200, answer.text
        body = answer.json()
    finally:
        client.delete("/api/slos/payment-availability")
    assert body["window"] == "7d" and body["timeUnixMs"] == AT // 10**6
    every = (RECENT, FAILED, EARLIER, SLOW)
    windows = {w["window"]: w for w in body["windows"]}
    for name, seconds in (("5m", 300), ("30m", 1800), ("1h", 3600), ("7d", 7 * 86400)):
        assert windows[name]["total"] == in_window(seconds, *every), name
        assert windows[name]["bad"] == in_window(seconds, FAILED), name
    [objective] = body["objectives"]
    # 5 minutes: 10 of 45 failed; the hour: 10 of 65 (budget 1%).
    assert objective["burnRates"]["5m"] == pytest.approx((10 / 45) / 0.01)
    assert objective["burnRates"]["1h"] == pytest.approx((10 / 65) / 0.01)
    assert objective["sli"] == pytest.approx(55 / 65)
    assert objective["budgetRemaining"] == pytest.approx(1 - (10 / 65) / 0.01)
    alerts = {a["name"]: a for a in objective["alerts"]}
    assert alerts["SLOFastBurn"]["conditionHolds"] is True  # 22.2 and 15.4 > 14.4
    assert alerts["SLOFastBurn"]["state"] == "inactive"  # not evaluated by the schedule yet


def test_status_now_is_the_schedules_last_finding(
    client: httpx.Client, evaluator: SloEvaluator
) -> None:
    assert put(client, "payment-availability", SLO).status_code == 201
    try:
        evaluated = time.time_ns() - 10**9  # a second ago: within two intervals (1 minute)
        asyncio.run(evaluator.evaluate(evaluated))
        body = client.get("/api/slos/payment-availability/status").json()
        assert body["timeUnixMs"] == evaluated // 10**6
        # Replaced since: computed afresh, now.
        assert put(client, "payment-availability", SLO).status_code == 200
        body = client.get("/api/slos/payment-availability/status").json()
        assert body["timeUnixMs"] > evaluated // 10**6
    finally:
        client.delete("/api/slos/payment-availability")


def test_a_latency_threshold_makes_slow_requests_bad(client: httpx.Client) -> None:
    doc = yaml.safe_load(SLO)
    good = doc["spec"]["indicator"]["spec"]["ratioMetric"]["good"]["metricSource"]["spec"]
    good["latencyThreshold"] = "100ms"
    assert (
        client.put("/api/slos/payment-availability", content=orjson.dumps(doc)).status_code == 201
    )
    try:
        body = client.get("/api/slos/payment-availability/status", params={"time": str(AT)}).json()
    finally:
        client.delete("/api/slos/payment-availability")
    five = next(w for w in body["windows"] if w["window"] == "5m")
    assert (five["total"], five["bad"]) == (45, 10 + 5)


def test_history_is_the_status_at_every_minute(client: httpx.Client) -> None:
    assert put(client, "payment-availability", SLO).status_code == 201
    try:
        params = {"start": str(AT - 90 * MINUTE), "end": str(AT), "points": "90"}
        answer = client.get("/api/slos/payment-availability/history", params=params)
        assert answer.status_code == 200, answer.text
        body = answer.json()
    finally:
        client.delete("/api/slos/payment-availability")
    # 90 points over 90 minutes: one a minute, at whole minutes, the last at or before AT.
    times = [t * 10**6 for t in body["timesUnixMs"]]
    last = AT // MINUTE * MINUTE
    assert times == [last - n * MINUTE for n in range(89, -1, -1)]
    every = (RECENT, FAILED, EARLIER, SLOW)
    for name, seconds in (("5m", 300), ("1h", 3600), ("7d", 7 * 86400)):
        window = body["windows"][name]
        assert window["total"] == [in_window(seconds, *every, at=t) for t in times], name
        assert window["bad"] == [in_window(seconds, FAILED, at=t) for t in times], name
    [objective] = body["objectives"]
    totals, bad = body["windows"]["1h"]["total"], body["windows"]["1h"]["bad"]
    assert objective["burnRates"]["1h"] == [
        None if not n else pytest.approx((b / n) / 0.01) for n, b in zip(totals, bad, strict=True)
    ]
    seven = body["windows"]["7d"]
    assert objective["budgetRemaining"][-1] == pytest.approx(
        1 - (seven["bad"][-1] / seven["total"][-1]) / 0.01
    )


def test_history_bounds_what_it_reads(client: httpx.Client) -> None:
    assert put(client, "payment-availability", SLO).status_code == 201
    try:
        path = "/api/slos/payment-availability/history"
        long = client.get(path, params={"start": "0", "end": str(AT)})
        many = client.get(path, params={"points": "501"})
    finally:
        client.delete("/api/slos/payment-availability")
    assert long.status_code == 400
    assert long.json()["error"] == "start: the range must be more than zero and at most 30 days"
    assert many.status_code == 400 and many.json()["error"].startswith("points: expected")


def test_alerts_fire_and_resolve_in_prometheus_shapes(
    client: httpx.Client, evaluator: SloEvaluator
) -> None:
    assert client.get("/api/v1/alerts").json() == {"status": "success", "data": {"alerts": []}}
    assert put(client, "payment-availability", SLO).status_code == 201
    try:
        # Burn rates: 22.2 over 5m, 15.4 over 30m, 1h, 6h and 3d: every rule holds.
        changes = asyncio.run(evaluator.evaluate(AT))
        assert [(c.alert.rule, c.alert.state) for c in changes] == [
            ("SLOFastBurn", "firing"),
            ("SLOSlowBurn", "firing"),
            ("SLOBudgetBurn", "firing"),
        ]
        alerts = client.get("/api/v1/alerts").json()["data"]["alerts"]
        assert [a["labels"]["alertname"] for a in alerts] == [
            "SLOBudgetBurn",
            "SLOFastBurn",
            "SLOSlowBurn",
        ]
        alert = alerts[1]
        assert alert["labels"] == {
            "alertname": "SLOFastBurn",
            "severity": "page",
            "slo": "payment-availability",
            "objective": "0",
            "service": "payment",
        }
        assert alert["state"] == "firing"
        assert alert["activeAt"].startswith("2026-05-28T")  # AT in RFC 3339
        assert float(alert["value"]) == pytest.approx((10 / 65) / 0.01)
        [group] = client.get("/api/v1/rules").json()["data"]["groups"]
        assert group["name"] == "payment-availability"
        states = {rule["name"]: (rule["state"], rule["health"]) for rule in group["rules"]}
        assert states == {
            "SLOFastBurn": ("firing", "ok"),
            "SLOSlowBurn": ("firing", "ok"),
            "SLOBudgetBurn": ("firing", "ok"),
        }
        fast = next(rule for rule in group["rules"] if rule["name"] == "SLOFastBurn")
        assert fast["type"] == "alerting" and len(fast["alerts"]) == 1
        assert "alertname" not in fast["labels"] and fast["labels"]["severity"] == "page"
        only = client.get("/api/v1/rules", params={"rule_name[]": "SLOSlowBurn"}).json()
        assert [r["name"] for r in only["data"]["groups"][0]["rules"]] == ["SLOSlowBurn"]
        assert client.get("/api/v1/rules", params={"type": "record"}).json()["data"] == {
            "groups": []
        }
        # Evaluated again: still firing, nothing new to tell.
        assert asyncio.run(evaluator.evaluate(AT + 10**9)) == []
        # An hour on, with no traffic since: the short windows see nothing, so the pages
        # are resolved; over 3 days and 6 hours the budget still burns at 15.4.
        later = asyncio.run(evaluator.evaluate(AT + 60 * MINUTE))
        assert [(c.alert.rule, c.alert.state) for c in later] == [
            ("SLOFastBurn", "resolved"),
            ("SLOSlowBurn", "resolved"),
        ]
        alerts = client.get("/api/v1/alerts").json()["data"]["alerts"]
        assert [a["labels"]["alertname"] for a in alerts] == ["SLOBudgetBurn"]
    finally:
        client.delete("/api/slos/payment-availability")
    # Deleted: its last alert is resolved.
    assert client.get("/api/v1/alerts").json()["data"]["alerts"] == []

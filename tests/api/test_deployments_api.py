"""``GET /api/deployments`` on a real server, over both backends."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from otelite.api import create_app
from otelite.storage import WriteBatch
from tests.analysis.deploy_samples import (
    END,
    MINUTE,
    MS,
    SECOND,
    T0,
    expected_red,
    export_request,
)
from tests.backends import BACKENDS, store

from .served import Served

_RANGE = {"start": str(T0), "end": str(END)}


@pytest.fixture(scope="module", params=BACKENDS)
def http(request: pytest.FixtureRequest) -> Iterator[httpx.Client]:
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[export_request()]))
        served = Served(create_app(opened))
        try:
            with httpx.Client(base_url=served.url, timeout=30) as client:
                yield client
        finally:
            served.close()


def test_every_deploy_with_its_time_previous_version_and_rollback(http: httpx.Client) -> None:
    response = http.get("/api/deployments", params=_RANGE)
    assert response.status_code == 200
    body = response.json()
    assert (body["startUnixMs"], body["endUnixMs"]) == (T0 // MS, END // MS)
    assert body["truncated"] is False and body["warnings"] == []
    found = [
        (d["service"], d["version"], d["timeUnixMs"], d["previous"], d["rollback"])
        for d in body["deployments"]
    ]
    ms = T0 // MS
    assert found == [
        ("rollback", "b", ms + 20 * 60_000, ["a"], False),
        ("clean", "2.0", ms + 30 * 60_000, ["1.0"], False),
        ("rolling", "2.0", ms + 30 * 60_000 + 5_000, ["1.0"], False),
        ("rollback", "a", ms + 40 * 60_000, ["b"], True),
        ("paused", "1.1", ms + 50 * 60_000, ["1.0"], False),
    ]
    versions = {(v["service"], v["version"]) for v in body["versions"]}
    assert ("steady", "3.1") in versions


def test_red_before_and_after_in_milliseconds(http: httpx.Client) -> None:
    body = http.get("/api/deployments", params={**_RANGE, "service": "clean"}).json()
    [deploy] = body["deployments"]
    t = T0 + 30 * MINUTE
    assert deploy["rolloutEndUnixMs"] == (t - 10 * SECOND + MS) // MS
    for side, start, end in (("before", t - 15 * MINUTE, t), ("after", t, t + 15 * MINUTE)):
        window, expected = deploy[side], expected_red("clean", start, end)
        assert (window["startUnixMs"], window["endUnixMs"]) == (start // MS, end // MS)
        assert window["requestCount"] == expected.requests
        assert window["errorCount"] == expected.errors
        assert window["ratePerSecond"] == pytest.approx(expected.requests / expected.seconds)
        assert window["errorRate"] == pytest.approx(expected.errors / expected.requests)
        assert window["p95Ms"] == pytest.approx(expected.p95_ns / MS)
        [version] = window["versions"]
        assert version["version"] == ("1.0" if side == "before" else "2.0")
        assert version["requestCount"] == expected.requests


def test_a_service_without_deploys_answers_an_empty_list(http: httpx.Client) -> None:
    body = http.get("/api/deployments", params={**_RANGE, "service": "steady"}).json()
    assert body["deployments"] == []
    assert [v["version"] for v in body["versions"]] == ["3.1"]
    # The default range, the last hour, holds nothing of these samples.
    assert http.get("/api/deployments").json()["deployments"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": str(T0), "end": str(T0 + 8 * 24 * 60 * MINUTE)}, "start"),
        ({"start": str(END), "end": str(T0)}, "start"),
        ({**_RANGE, "settle": "soon"}, "settle"),
        ({**_RANGE, "settle": "0s"}, "settle"),
        ({**_RANGE, "window": "2h"}, "window"),
        ({**_RANGE, "window": "0s"}, "window"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    http: httpx.Client, params: dict[str, str], field: str
) -> None:
    response = http.get("/api/deployments", params=params)
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{field}: ")

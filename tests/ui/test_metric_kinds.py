"""Sums carry their temporality and monotonicity from the API, and the metrics page plots by
them: rates for monotonic sums (cumulative differenced with restarts, delta per interval),
values for the others."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import wait_for
from tests.ui.conftest import UI, Filled

pytestmark = pytest.mark.slow

DELTA, CUMULATIVE = 1, 2
S = 10**9


def _sum(name: str, temporality: int, monotonic: bool, points: list[tuple[int, int, int]]) -> Any:
    return {
        "name": name,
        "sum": {
            "aggregationTemporality": temporality,
            "isMonotonic": monotonic,
            "dataPoints": [
                {
                    "startTimeUnixNano": str(start),
                    "timeUnixNano": str(at),
                    "asInt": str(value),
                    "attributes": [{"key": "route", "value": {"stringValue": "/a"}}],
                }
                for start, at, value in points
            ],
        },
    }


@pytest.fixture(scope="module")
def sums(filled: Filled) -> int:
    """Four sums sent as OTLP/JSON, at 10 s steps from a few minutes ago; returns t0."""
    t0 = (time.time_ns() - 300 * S) // S * S
    restart = t0 + 15 * S
    metrics = [
        # 10 → 20, then a restart (new start time, lower value) to 5, then 15.
        _sum(
            "kinds.cumulative",
            CUMULATIVE,
            True,
            [
                (t0, t0, 10),
                (t0, t0 + 10 * S, 20),
                (restart, t0 + 20 * S, 5),
                (restart, t0 + 30 * S, 15),
            ],
        ),
        _sum(
            "kinds.delta",
            DELTA,
            True,
            [(t0, t0 + 10 * S, 30), (t0 + 10 * S, t0 + 20 * S, 10)],
        ),
        # Only ever rises, yet is no counter: plotted as values.
        _sum("kinds.updown", CUMULATIVE, False, [(t0, t0 + i * 10 * S, i + 1) for i in range(3)]),
        # The same attributes as cumulative, then as delta: two series.
        _sum("kinds.changed", CUMULATIVE, True, [(t0, t0 + 10 * S, 1)]),
        _sum("kinds.changed", DELTA, True, [(t0 + 10 * S, t0 + 20 * S, 1)]),
    ]
    request = {
        "resourceMetrics": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "kinds"}}]
                },
                "scopeMetrics": [{"metrics": metrics}],
            }
        ]
    }
    response = httpx.post(f"{filled.server.otlp_http}/v1/metrics", json=request, timeout=10)
    assert response.status_code == 200, response.text
    wait_for(lambda: len(_series(filled, "kinds.changed")) == 2, what="the sums")
    return t0


def _series(filled: Filled, name: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{filled.server.url}/api/metrics/{name}/series", timeout=10)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["series"]
    return found


def _kind(series: dict[str, Any]) -> tuple[Any, ...]:
    return (series["aggregationTemporality"], series["isMonotonic"], len(series["points"]))


def test_series_carry_temporality_and_monotonicity(filled: Filled, sums: int) -> None:
    assert [_kind(s) for s in _series(filled, "kinds.cumulative")] == [(CUMULATIVE, True, 4)]
    assert [_kind(s) for s in _series(filled, "kinds.delta")] == [(DELTA, True, 2)]
    assert [_kind(s) for s in _series(filled, "kinds.updown")] == [(CUMULATIVE, False, 3)]
    assert sorted(_kind(s) for s in _series(filled, "kinds.changed")) == [
        (DELTA, True, 1),
        (CUMULATIVE, True, 1),
    ]
    # From the SDK: a histogram has a temporality only, a gauge neither.
    [histogram, *_] = _series(filled, "http.server.request.duration")
    assert histogram["aggregationTemporality"] == CUMULATIVE
    assert "isMonotonic" not in histogram
    [gauge] = _series(filled, "cart.queue.depth")
    assert "aggregationTemporality" not in gauge and "isMonotonic" not in gauge


@pytest.mark.parametrize(
    ("metric", "kind", "plotted"),
    [
        ("kinds.cumulative", "cumulative, monotonic", "rate per second"),
        ("kinds.delta", "delta, monotonic", "rate per second"),
        ("kinds.updown", "cumulative, not monotonic", "plotted: value"),
    ],
)
def test_the_plot_follows_the_series_kind(
    ui: UI, sums: int, metric: str, kind: str, plotted: str
) -> None:
    page = ui.open(f"/metrics?start={sums // S - 60}&end=now&metric={metric}&type=sum")
    description = page.locator(".metric-plot p.plotted")
    expect(description).to_contain_text(kind)
    expect(description).to_contain_text(plotted)
    expect(page.locator(".metric-plot canvas")).to_have_count(1)


def test_rates_difference_cumulative_points_and_divide_deltas(ui: UI, sums: int) -> None:
    page = ui.open("/metrics")
    rates = page.evaluate(
        """async (names) => {
            const math = await import("/ui/js/metric-math.js");
            const out = {};
            for (const name of names) {
                const body = await (await fetch(`/api/metrics/${name}/series`)).json();
                out[name] = body.series.map((s) => math.numberPoints(s).map(([t, y]) => y));
            }
            return out;
        }""",
        ["kinds.cumulative", "kinds.delta", "kinds.updown"],
    )
    assert rates == {
        # (20-10)/10 s; after the restart the new value is the increase: 5/10 s; (15-5)/10 s.
        "kinds.cumulative": [[1.0, 0.5, 1.0]],
        "kinds.delta": [[3.0, 1.0]],  # 30 over its 10 s, 10 over its 10 s
        "kinds.updown": [[1.0, 2.0, 3.0]],  # values as they are
    }

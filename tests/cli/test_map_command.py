"""``otelite map`` against the real query API over both backends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from otelite.api import create_app
from otelite.cli import main
from otelite.storage import WriteBatch
from tests.analysis.map_traces import (
    END_NS,
    SECONDS,
    START_NS,
    expected_edges,
    export_request,
    make_spans,
)
from tests.api.served import Served
from tests.backends import BACKENDS, store

Capture = pytest.CaptureFixture[str]
SPANS = make_spans(seed=5, traces=20)
WINDOW = ["--start", str(START_NS), "--end", str(END_NS)]


@pytest.fixture(scope="module", params=BACKENDS)
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    with store(request.param) as opened:
        opened.write(WriteBatch(traces=[export_request(SPANS)]))
        served = Served(create_app(opened))
        try:
            yield served.url
        finally:
            served.close()


def test_map_lists_every_call_with_its_rate_and_errors(url: str, capsys: Capture) -> None:
    assert main(["map", "--url", url, *WINDOW]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["CLIENT", "SERVER", "KIND", "REQ/S", "ERRORS", "P50", "P95", "P99"]
    # Each row without its three latencies (one word each), spaces squeezed.
    found = {" ".join(row.split()[:-3]) for row in rows}
    kinds = {"": "call", "messaging_system": "messaging system", "database": "database"}
    expected = set()
    for (client, server, connection), requests in expected_edges(SPANS).items():
        kind = kinds.get(connection, "virtual node")
        rate = f"{len(requests) / SECONDS:.3g}"
        errors = f"{100 * sum(failed for failed, _ in requests) / len(requests):.1f}%"
        expected.add(f"{client} {server} {kind} {rate} {errors}")
    assert found == expected


def test_map_of_one_service_and_of_an_empty_range(url: str, capsys: Capture) -> None:
    assert main(["map", "--url", url, "--service", "payment", *WINDOW]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert {tuple(row.split()[:2]) for row in rows} == {
        ("checkout", "payment"),
        ("payment", "api.pay.example"),
    }
    assert (
        main(
            [
                "map",
                "--url",
                url,
                "--start",
                "2001-01-01T00:00:00Z",
                "--end",
                "2001-01-01T01:00:00Z",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert captured.out == "" and "no calls" in captured.err

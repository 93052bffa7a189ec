"""``otelite slo`` against the real API over a store with failing requests to ``payment``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import yaml

from otelite.analysis import SloCatalog, SloEvaluator
from otelite.api import create_app
from otelite.cli import main
from otelite.storage import WriteBatch
from tests.analysis.slo_data import batch
from tests.analysis.test_openslo import AVAILABILITY, PROMETHEUS
from tests.analysis.test_slo_api import AT, EARLIER, FAILED, RECENT, SLO
from tests.api.served import Served
from tests.backends import store

Capture = pytest.CaptureFixture[str]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[list[str], SloEvaluator]]:
    with store("duckdb") as storage:
        storage.write(WriteBatch(traces=[batch("payment", [*RECENT, *FAILED, *EARLIER])]))
        evaluator = SloEvaluator(SloCatalog(None), lambda tenant: storage)
        server = Served(create_app(storage, slo_evaluator=evaluator))
        try:
            yield ["--url", server.url], evaluator
        finally:
            server.close()


def run(capsys: Capture, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_apply_list_get_status_and_delete(
    served: tuple[list[str], SloEvaluator], tmp_path: Path, capsys: Capture
) -> None:
    url, evaluator = served
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(SLO)
    second.write_text(AVAILABILITY + "---\n" + PROMETHEUS)
    # The two files define one SLO twice: both are refused, whole.
    code, _, err = run(capsys, "slo", "apply", str(first), str(second), *url)
    assert code == 1
    assert "document 2: metadata.name: 'payment-availability' is defined twice" in err
    assert run(capsys, "slo", "list", *url) == (0, [], "no SLOs\n")
    second.write_text(PROMETHEUS)
    code, lines, err = run(capsys, "slo", "apply", str(first), str(second), *url)
    assert code == 0, err
    assert lines == ["payment-availability: created", "checkout-errors: created"]
    code, lines, _ = run(capsys, "slo", "list", *url)
    assert [line.split()[:3] for line in lines] == [
        ["NAME", "SERVICE", "WINDOW"],
        ["checkout-errors", "-", "28d"],
        ["payment-availability", "payment", "7d"],
    ]
    code, lines, _ = run(capsys, "slo", "get", "payment-availability", *url)
    assert yaml.safe_load("\n".join(lines)) == yaml.safe_load(SLO)
    asyncio.run(evaluator.evaluate(AT))
    code, lines, err = run(capsys, "slo", "status", "payment-availability", "--time", str(AT), *url)
    assert code == 0, err
    header, row = lines
    assert header.split()[:4] == ["SLO", "OBJECTIVE", "TARGET", "SLI"]
    # 10 of 40 requests in the last 5 minutes failed, 10 of 60 in the hour (budget 1%).
    assert row.split() == [
        "payment-availability",
        "0",
        "99.00%",
        f"{50 / 60 * 100:.3f}%",
        f"{(1 - (10 / 60) / 0.01) * 100:.1f}%",
        f"{(10 / 40) / 0.01:.2f}x",
        f"{(10 / 60) / 0.01:.2f}x",
        f"{(10 / 60) / 0.01:.2f}x",
        f"{(10 / 60) / 0.01:.2f}x",
        "SLOFastBurn,",
        "SLOSlowBurn,",
        "SLOBudgetBurn",
    ]
    code, lines, _ = run(capsys, "slo", "status", "--json", "--time", str(AT), *url)
    assert [s["name"] for s in orjson.loads("\n".join(lines))] == [
        "checkout-errors",
        "payment-availability",
    ]
    code, lines, _ = run(capsys, "slo", "delete", "checkout-errors", *url)
    assert (code, lines) == (0, ["checkout-errors: deleted"])


def test_errors_name_the_field(
    served: tuple[list[str], SloEvaluator], tmp_path: Path, capsys: Capture
) -> None:
    url, _ = served
    bad = tmp_path / "bad.yaml"
    bad.write_text(SLO.replace("target: 0.99", "target: 99"))
    code, _, err = run(capsys, "slo", "apply", str(bad), *url)
    assert code == 1
    assert "spec.objectives[0].target: must be in (0, 1), got 99 (HTTP 400" in err
    code, _, err = run(capsys, "slo", "delete", "nothing-here", *url)
    assert code == 1 and "no SLO named 'nothing-here'" in err
    code, _, err = run(capsys, "slo", "apply", str(tmp_path / "missing.yaml"), *url)
    assert code == 1 and "cannot read" in err

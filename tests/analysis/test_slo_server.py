"""SLOs in a running server: --slo-file, the schedule, restarts and tenants."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from otelite.config import Config, StorageLocation, Tenancy
from otelite.errors import InvalidRequest
from otelite.server import Server
from tests.backends import BACKENDS, chdb_location, drop
from tests.receivers.support import LoopThread

from .slo_data import MINUTE, batch, spread
from .test_openslo import AVAILABILITY
from .test_slo_api import SLO

PROTOBUF = {"Content-Type": "application/x-protobuf"}


@contextmanager
def running(data_dir: Path | None, **options: Any) -> Iterator[tuple[Server, httpx.Client]]:
    config = Config(data_dir=data_dir, port=0, otlp_grpc_port=0, otlp_http_port=0, **options)
    loop = LoopThread()
    server = Server(config)
    try:
        loop.run(server.start())
        with httpx.Client(
            base_url=f"http://127.0.0.1:{server.endpoints.api_port}", timeout=30
        ) as client:
            yield server, client
    finally:
        loop.run(server.shutdown())
        loop.close()


def names(client: httpx.Client, tenant: str | None = None) -> list[str]:
    headers = {} if tenant is None else {"X-Scope-OrgID": tenant}
    answer = client.get("/api/slos", headers=headers)
    assert answer.status_code == 200, answer.text
    return [slo["name"] for slo in answer.json()["slos"]]


def test_slo_files_are_applied_at_start_and_kept_with_what_is_put(tmp_path: Path) -> None:
    file = tmp_path / "slos.yaml"
    file.write_text(AVAILABILITY)
    data = tmp_path / "data"
    with running(data, slo_files=(file,)) as (_, client):
        assert names(client) == ["payment-availability"]
        assert (
            client.put(
                "/api/slos/payment-availability-2",
                content=SLO.replace("name: payment-availability", "name: payment-availability-2"),
            ).status_code
            == 201
        )
    with running(data) as (_, client):
        assert names(client) == ["payment-availability", "payment-availability-2"]


def test_a_bad_slo_file_stops_the_start_and_applies_nothing(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(AVAILABILITY)
    bad.write_text(AVAILABILITY.replace("target: 0.999", "target: 2"))
    with pytest.raises(InvalidRequest) as caught, running(tmp_path, slo_files=(good, bad)):
        pass
    assert str(caught.value) == (
        f"--slo-file {bad}: spec.objectives[0].target: must be in (0, 1), got 2"
    )
    with running(tmp_path) as (_, client):
        assert names(client) == []


def test_tenants_keep_their_own_slos(tmp_path: Path) -> None:
    tenancy = Tenancy(enabled=True)
    with running(tmp_path, tenancy=tenancy) as (_, client):
        put = client.put(
            "/api/slos/payment-availability",
            content=AVAILABILITY,
            headers={"X-Scope-OrgID": "acme"},
        )
        assert put.status_code == 201
        assert names(client, "acme") == ["payment-availability"]
        assert names(client, "globex") == []
        assert client.get("/api/slos").status_code == 400  # no tenant named
    file = tmp_path / "slos.yaml"
    file.write_text(AVAILABILITY)
    with (
        pytest.raises(InvalidRequest, match="needs --default-tenant"),
        running(tmp_path, tenancy=tenancy, slo_files=(file,)),
    ):
        pass


@pytest.mark.parametrize("kind", BACKENDS)
def test_the_schedule_fires_an_alert_on_failing_requests(tmp_path: Path, kind: str) -> None:
    location = chdb_location() if kind == "chdb" else StorageLocation()
    file = tmp_path / "slos.yaml"
    file.write_text(SLO)
    try:
        with running(tmp_path, storage=location, slo_files=(file,), slo_interval_seconds=0.2) as (
            server,
            client,
        ):
            now = time.time_ns()
            failing = spread(now - 2 * MINUTE, now - MINUTE, 20, failed=True)
            sent = httpx.post(
                f"http://127.0.0.1:{server.endpoints.otlp_http_port}/v1/traces",
                content=batch("payment", failing).SerializeToString(),
                headers=PROTOBUF,
            )
            assert sent.status_code == 200
            deadline = time.monotonic() + 60
            firing: list[str] = []
            while time.monotonic() < deadline and "SLOFastBurn" not in firing:
                time.sleep(0.2)
                alerts = client.get("/api/v1/alerts").json()["data"]["alerts"]
                firing = [a["labels"]["alertname"] for a in alerts]
            assert "SLOFastBurn" in firing
            [group] = client.get("/api/v1/rules").json()["data"]["groups"]
            assert group["interval"] == 0.2
            assert {rule["health"] for rule in group["rules"]} == {"ok"}
            metrics = client.get("/metrics").text
            # Labels in name order, as prometheus-client writes them.
            tenant = 'tenant="single-tenant"'
            assert f'otelite_slo_alerts_firing{{severity="page",{tenant}}} 2.0' in metrics
            assert f'otelite_slo_evaluations_total{{outcome="ok",{tenant}}}' in metrics
    finally:
        if kind == "chdb":
            drop(location)

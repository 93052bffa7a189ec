"""With tenants kept apart, otelite's own telemetry is a tenant of its own."""

from __future__ import annotations

from pathlib import Path

from otelite.receivers import SELF_SERVICE

from .data import tenant_a
from .support import Running

A = "tenant-a"
WINDOW = {"start": "0", "end": str(2**62)}


def services(server: Running, tenant: str) -> set[str]:
    response = server.get("/api/services", tenant, **WINDOW)
    assert response.status_code == 200
    return {row["name"] for row in response.json()["services"]}


def test_self_telemetry_goes_to_its_own_tenant(tmp_path: Path) -> None:
    server = Running(tmp_path / "data", self_telemetry=True)
    try:
        for signal, request in tenant_a().items():
            assert server.post(signal, request, A).status_code == 200
        server.flush()
        before = services(server, A)
        server.flush()  # stores what the query above traced
        own = services(server, SELF_SERVICE)
        after = services(server, A)
    finally:
        server.close()
    assert SELF_SERVICE not in before | after
    assert before == after
    assert own == {SELF_SERVICE}

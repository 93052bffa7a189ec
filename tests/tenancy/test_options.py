"""``otelite serve`` tenant options → ``Tenancy``, and client ``--tenant`` checks."""

from __future__ import annotations

import pytest

from otelite._cli._serve import config_from_args
from otelite.cli import build_parser
from otelite.config import Tenancy


def tenancy(*options: str) -> Tenancy:
    return config_from_args(build_parser().parse_args(["serve", *options]), environ={}).tenancy


def test_off_by_default() -> None:
    assert tenancy() == Tenancy(enabled=False, max_tenants=100, default_tenant=None)


def test_every_tenant_option() -> None:
    assert tenancy("--multi-tenant", "--max-tenants", "7", "--default-tenant", "shared") == (
        Tenancy(enabled=True, max_tenants=7, default_tenant="shared")
    )


def test_a_default_tenant_needs_multi_tenancy() -> None:
    with pytest.raises(ValueError, match="--default-tenant needs --multi-tenant"):
        tenancy("--default-tenant", "shared")


@pytest.mark.parametrize(
    "options",
    [
        ["serve", "--multi-tenant", "--default-tenant", ".."],
        ["serve", "--multi-tenant", "--max-tenants", "0"],
        ["services", "--tenant", "%2e%2e"],
    ],
)
def test_bad_values_are_refused_by_the_parser(
    options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(options)
    error = capsys.readouterr().err
    assert "tenant id" in error or "must be at least 1" in error

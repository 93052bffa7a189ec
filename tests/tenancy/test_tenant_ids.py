"""The tenant id rule, and how a request's header values resolve to its tenant."""

from __future__ import annotations

import pytest

from otelite.config import Tenancy
from otelite.errors import InvalidRequest
from otelite.tenancy import SINGLE_TENANT, check_tenant_id, tenant_of

RULE = "a tenant id is 1 to 150 characters from A-Z a-z 0-9 ! - _ . * ' ( ) and not '.' or '..'"

# Each refused id with the exact problem reported (the message is "X-Scope-OrgID <id> <problem>;
# <rule>"). URL-encoded forms are refused as they are: '%' is not allowed, so nothing decodes
# them into a path.
REFUSED = {
    "": "'' is empty",
    "a" * 151: f"{'a' * 60!r}... (151 characters) is 151 bytes long, over the limit of 150",
    "é" * 80: f"{'é' * 60!r}... (80 characters) is 160 bytes long, over the limit of 150",
    ".": "'.' is reserved",
    "..": "'..' is reserved",
    "a/b": "'a/b' contains '/', which a tenant id may not",
    "a\\b": "'a\\\\b' contains '\\\\', which a tenant id may not",
    "/etc": "'/etc' contains '/', which a tenant id may not",
    "../x": "'../x' contains '/', which a tenant id may not",
    "%2e%2e": "'%2e%2e' contains '%', which a tenant id may not",
    "%252e%252e": "'%252e%252e' contains '%', which a tenant id may not",
    "..%2f": "'..%2f' contains '%', which a tenant id may not",
    "..%252f..": "'..%252f..' contains '%', which a tenant id may not",
    "a\x00b": "'a\\x00b' contains '\\x00', which a tenant id may not",
    "tenant\n": "'tenant\\n' contains '\\n', which a tenant id may not",
    "café": "'café' contains 'é', which a tenant id may not",
    "\uff2frg": "'\uff2frg' contains '\uff2f', which a tenant id may not",  # fullwidth O
    "a b": "'a b' contains ' ', which a tenant id may not",
    " ": "' ' contains ' ', which a tenant id may not",
    "a|b": "'a|b' contains '|', which a tenant id may not",
    "a:b": "'a:b' contains ':', which a tenant id may not",
}
ACCEPTED = ["a", "acme", "Team-42", "a.b", "...", ".a", "a..", "x" * 150, "!-_.*'()", "A9"]


@pytest.mark.parametrize("value", list(REFUSED))
def test_invalid_ids_are_refused_with_the_reason_and_the_rule(value: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_tenant_id(value)
    assert str(refused.value) == f"X-Scope-OrgID {REFUSED[value]}; {RULE}"


@pytest.mark.parametrize("value", ACCEPTED)
def test_valid_ids_are_kept_as_sent(value: str) -> None:
    assert check_tenant_id(value) == value


def test_without_multi_tenancy_the_header_is_ignored() -> None:
    off = Tenancy()
    assert tenant_of([], off, allowed=None) == SINGLE_TENANT
    assert tenant_of(["acme"], off, allowed=None) == SINGLE_TENANT
    assert tenant_of(["../x", "a"], off, allowed=None) == SINGLE_TENANT  # not checked: not used


def test_with_multi_tenancy_the_header_is_required_once() -> None:
    on = Tenancy(enabled=True)
    assert tenant_of(["acme"], on, allowed=None) == "acme"
    with pytest.raises(InvalidRequest, match=r"^X-Scope-OrgID header required: "):
        tenant_of([], on, allowed=None)
    with pytest.raises(InvalidRequest) as twice:
        tenant_of(["acme", "other"], on, allowed=None)
    assert str(twice.value) == "X-Scope-OrgID sent 2 times; send one tenant id per request"
    with pytest.raises(InvalidRequest, match="contains '/'"):
        tenant_of(["a/b"], on, allowed=None)


def test_a_default_tenant_takes_requests_without_the_header() -> None:
    on = Tenancy(enabled=True, default_tenant="shared")
    assert tenant_of([], on, allowed=None) == "shared"
    assert tenant_of(["acme"], on, allowed=None) == "acme"
    with pytest.raises(InvalidRequest):
        tenant_of([""], on, allowed=None)  # an empty header is a wrong id, not a missing one


def test_tenancy_settings_are_checked() -> None:
    with pytest.raises(ValueError, match=r"^the default tenant '\.\.' is reserved; "):
        Tenancy(enabled=True, default_tenant="..")
    with pytest.raises(ValueError, match="max_tenants must be at least 1, got 0"):
        Tenancy(enabled=True, max_tenants=0)
